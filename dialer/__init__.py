"""The phone side: calls/ (a call row's life), ivr/ (TwiML flows and webhooks), providers/ (the port and the
Twilio-compatible adapter), simulator/ (a carrier for tests and the demo); runner.py wires them. See
docs/architecture.md, "The dialer"."""
