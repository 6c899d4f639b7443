"""Provider profiles and which refusals are the account's: what the dialer expects of Twilio and Somleng."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from dialer.providers.profiles import SOMLENG, TWILIO, profile
from dialer.providers.twilio import account_refusal
from dialer.settings import DialerSettings


def test_the_profiles_say_what_each_provider_honours() -> None:
    assert profile("Somleng") is SOMLENG and profile("twilio") is TWILIO
    assert (SOMLENG.amd, SOMLENG.progress_callbacks, SOMLENG.list_filter_to, SOMLENG.limit) == (
        False,
        False,
        False,
        "channels",
    )
    assert TWILIO.amd and TWILIO.list_filter_to and TWILIO.limit == "cps"
    with pytest.raises(ValueError, match="twilio, somleng"):
        profile("signalwire")


def test_amd_is_asked_for_only_where_the_provider_has_it() -> None:
    assert DialerSettings(voice_provider="twilio").answering_machines_detected
    assert not DialerSettings(voice_provider="somleng").answering_machines_detected
    assert not DialerSettings(voice_provider="twilio", answering_machine_detection=False).answering_machines_detected


@pytest.mark.parametrize(
    ("status", "code", "message", "account"),
    [
        (422, "S1005", "Insufficient balance", True),  # Somleng: the balance is used up
        (422, "S1004", "Carrier is not in good standing", True),  # Somleng: the carrier's account
        (422, "30002", "Account suspended", True),
        (422, None, "Account has insufficient balance", True),  # a code Somleng may add later: by its words
        (422, "S1007", "This destination is blocked", False),  # Somleng: this call's destination
        (422, None, "To is invalid", False),  # Somleng: this call's number
        (400, 21210, "The source phone number provided is not yet verified", True),
        (400, 21215, "Account not authorized to call this number (geo permissions)", True),
        (401, 20003, "Authenticate", True),
        (400, 21217, "Phone number is not valid", False),
    ],
)
def test_account_refusals_are_told_from_refusals_of_a_call(
    status: int, code: int | str | None, message: str, account: bool
) -> None:
    assert account_refusal(TwilioRestException(status, "uri", msg=message, code=code)) is account
