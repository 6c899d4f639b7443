"""Settings: a value that cannot be used is one line naming the setting and what it expects; what a command
needs (a public https address, the whole voice account) is checked by the command."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bongpheak.commands import CommandError
from bongpheak.settings import Settings, settings_problem


def problem(**values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, **values)  # type: ignore[call-arg]
    line = settings_problem(raised.value)
    assert line is not None and "\n" not in line
    return line


def test_each_bad_value_is_named_with_what_it_expects() -> None:
    assert problem(calls_per_second="abc") == (
        "CALLS_PER_SECOND=abc: expected a number above 0 (the provider's limit), e.g. 1"
    )
    assert problem(calling_hours_end="24:00").startswith("CALLING_HOURS_END=24:00: not a time of day; expected")
    assert "'2026-02-30' is not a date" in problem(calling_holidays='["2026-02-30"]')
    assert problem(moderator_ids="1,2").startswith("MODERATOR_IDS: not JSON; expected a JSON list")
    assert problem(max_concurrent_calls=0).startswith("MAX_CONCURRENT_CALLS=0: expected a whole number")
    assert problem(moderators_language="fr") == "MODERATORS_LANGUAGE: expected km or en"
    both = problem(calls_per_second=0, nominations_per_day=0)
    assert "CALLS_PER_SECOND=0" in both and "NOMINATIONS_PER_DAY=0" in both


def test_secrets_and_addresses_with_passwords_are_named_not_shown() -> None:
    line = problem(database_url="mysql://root:hunter2@db/jobs")
    assert line.startswith("DATABASE_URL: 'mysql' is not PostgreSQL") and "hunter2" not in line
    assert "+8551" not in problem(voice_from_number="+8551")


def test_good_values_are_normalised() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        moderator_ids="[1, 2]",
        calling_holidays='["2026-04-14"]',
        calling_hours_start="8:00",
        public_base_url="https://jobs.example.org/",
        voice_from_number="+855 23 000 000",
    )
    assert settings.moderator_ids == [1, 2]
    assert [d.isoformat() for d in settings.calling_holidays] == ["2026-04-14"]
    assert settings.calling_hours_start == "08:00"
    assert settings.public_base_url == "https://jobs.example.org"
    assert settings.voice_from_number == "+85523000000"


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:8080", "http://127.0.0.2", "http://localhost:9000", "http://[::1]:8080"]
)
def test_plain_http_is_accepted_on_loopback_only(address: str) -> None:
    assert Settings(_env_file=None, public_base_url=address).check_public_address("tests") == address  # type: ignore[call-arg]


@pytest.mark.parametrize("address", [None, "http://jobs.example.org", "http://10.0.0.5:8080"])
def test_a_missing_or_plain_http_public_address_is_refused(address: str | None) -> None:
    with pytest.raises(CommandError, match="PUBLIC_BASE_URL"):
        Settings(_env_file=None, public_base_url=address).check_public_address("the Telegram webhook")  # type: ignore[call-arg]


def test_the_dialer_needs_the_whole_voice_account() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        voice_account_sid="AC1",
        voice_auth_token="t",
        public_base_url="https://jobs.example.org",
    )
    settings.check_voice(placing_calls=False)  # the webhooks alone need no caller id
    with pytest.raises(CommandError, match=r"^VOICE_FROM_NUMBER is not set"):
        settings.check_voice(placing_calls=True)
