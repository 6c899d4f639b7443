"""The flows' state tables are complete and readable."""

from __future__ import annotations

import inspect

from conversations.dialog import ACTIONS, COMMANDS, STEPS, _command


def test_every_step_and_action_is_a_documented_coroutine() -> None:
    functions = [f for step in STEPS.values() for f in step] + list(ACTIONS.values())
    for function in functions:
        assert inspect.iscoroutinefunction(function), function
        assert function.__doc__ and len(function.__doc__.strip().splitlines()) == 1, function.__name__


def test_commands_lead_to_actions() -> None:
    assert all(action in ACTIONS for action in COMMANDS.values())


def test_step_names_say_their_flow() -> None:
    assert all("." in name for name in STEPS)


def test_command_parsing() -> None:
    assert _command("/start@BongPheakBot extra") == "start"
    assert _command("/HELP") == "help"
    assert _command("hello /start") is None
    assert _command("/") == ""
    assert _command(None) is None
