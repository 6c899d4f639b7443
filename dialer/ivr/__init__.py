"""What a person on the line hears and presses: the TwiML flows, the voice webhooks, the prompts' audio and
the round-trip self-check."""
