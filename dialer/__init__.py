"""IVR: call lifecycle, scheduler, Twilio-compatible provider, TwiML webhooks, carrier simulator."""
