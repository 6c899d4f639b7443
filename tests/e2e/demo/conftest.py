"""The voice stack of the dialer's end-to-end tests (our webhooks, the carrier simulator), for the demo's tests."""

from tests.e2e.dialer.conftest import audio, provider_mode, stack  # noqa: F401
