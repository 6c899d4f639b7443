"""Messenger's settings: all or nothing, a one-line complaint naming the missing one, the demo guard."""

from __future__ import annotations

import pytest

from bongpheak.commands import CommandError
from bongpheak.demo_guard import services_in_use
from bongpheak.settings import Settings

ALL = {
    "messenger_page_token": "EAAB-token",
    "messenger_app_secret": "secret",
    "messenger_verify_token": "verify",
    "messenger_page_id": "bongpheak.jobs",
}


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_messenger_is_on_with_all_four_settings_and_off_with_none() -> None:
    assert _settings(**ALL).check_messenger() is True
    assert _settings().check_messenger() is False


@pytest.mark.parametrize("left_out", sorted(ALL))
def test_a_missing_messenger_setting_is_named_in_one_line(left_out: str) -> None:
    values = {k: v for k, v in ALL.items() if k != left_out}
    with pytest.raises(CommandError) as raised:
        _settings(**values).check_messenger()
    message = str(raised.value)
    assert left_out.upper() in message and "\n" not in message


def test_a_graph_api_address_must_be_http() -> None:
    with pytest.raises(ValueError, match=r"messenger_api_base_url"):
        _settings(messenger_api_base_url="ftp://graph.example")


def test_the_demo_guard_counts_messenger_as_a_real_service_unless_it_points_at_a_fake() -> None:
    assert ("Messenger", "graph.facebook.com") in services_in_use(_settings(**ALL), telegram=True)
    local = _settings(**ALL, messenger_api_base_url="http://127.0.0.1:8082")
    assert ("Messenger", "127.0.0.1") in services_in_use(local, telegram=True)
    assert all(service != "Messenger" for service, _host in services_in_use(_settings(), telegram=True))
