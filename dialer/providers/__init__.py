"""The voice provider port (base.py) and its adapter for Twilio-compatible APIs (twilio.py), with what each
provider supports (profiles.py)."""
