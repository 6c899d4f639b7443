"""What a worker hears, in order, through the carrier simulator: the menu introduced, "we have another job"
between two jobs, and in the check-in help call the goodbye after the hotlines."""

from __future__ import annotations

from dialer.simulator.carrier import Script
from jobs_core.model import Event
from media import composer
from media.composer import Utterance
from tests.e2e.dialer.conftest import VoiceStack, hire
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


def _keys(spoken: list[Utterance]) -> list[str]:
    return [k for utterance in spoken for k in utterance.keys]


async def test_two_jobs_in_one_call_the_second_is_another_job(stack: VoiceStack, spoken: list[Utterance]) -> None:
    employer = await add_employer(stack.sessions)
    for _ in range(2):
        await add_job(stack.sessions, employer)
    worker, _ = await add_worker(stack.sessions, phone(51))
    stack.scripts[phone(51)] = Script(keys=["1", "2", "0"])  # apply to the first (no experience), then goodbye
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="worker.consented", payload={"worker_id": worker}, created_at=stack.clock.now()))
    await stack.dial()
    keys = _keys(spoken)
    assert keys.count("ivr.pitch.intro") == 1 and keys.count("ivr.pitch.another") == 1
    first, second = keys.index("ivr.pitch.intro"), keys.index("ivr.pitch.another")
    # The company's promise about the first job, then "we have another job", then its pitch and menu.
    assert keys[second - 1] == "ivr.company_will_contact" and keys[second + 1] == "positions.need"
    assert first < keys.index("ivr.experience.question") < second
    # Each menu is introduced: "if you are interested in this job …", then the keys.
    menus = [i for i, k in enumerate(keys) if k == "ivr.menu.intro"]
    assert len(menus) == 2 and all(keys[i + 1] == "ivr.menu.apply" for i in menus)
    assert keys[-1] == "ivr.goodbye"


async def test_checkin_help_call_says_goodbye_after_the_hotlines(stack: VoiceStack, spoken: list[Utterance]) -> None:
    await hire(stack, phone(52))
    stack.scripts[phone(52)] = Script(keys=["9"])
    await stack.dial()
    stack.clock.advance(days=7)
    await stack.dial()
    keys = _keys(spoken)
    help_at = keys.index("ivr.checkin.help")
    assert tuple(keys[help_at:]) == ("ivr.checkin.help", *composer.safety_line("km").keys, "ivr.goodbye")
