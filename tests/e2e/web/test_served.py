"""The website as ``bongpheak serve`` runs it (``build_app``: every part on, the real audio renderer, the
dialer inside): the list, a job page, its voice note rendered into the audio cache as MP3, and a family
member called after a visitor asked on the page."""

from __future__ import annotations

from pathlib import Path

from aiohttp import ClientSession
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialer.simulator.carrier import Script
from jobs_core.model import Call, CallPurpose
from tests.builders import Builder
from tests.e2e.test_whole_system import eventually, running_system
from tests.integration.web.support import parse


async def test_the_served_app_shows_jobs_plays_their_voice_note_and_calls_a_family_member(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with running_system(engine, session_factory, tmp_path, lambda to: Script(keys=["1"])) as system:
        build = Builder(system.sessions, now=None)  # type: ignore[arg-type]  # the real clock, as the app uses
        job = await build.published(await build.employer(), title="Sewing operators")
        async with ClientSession() as http:
            home = parse(await (await http.get(f"{system.base_url}/")).text())
            assert home.find("a", href=f"/jobs/{job}").all_text() == "Sewing operators"
            page_response = await http.get(f"{system.base_url}/en/jobs/{job}")
            page = parse(await page_response.text())
            audio = await http.get(f"{system.base_url}{page.find('audio').attrs['src']}")
            assert audio.status == 200 and audio.content_type == "audio/mpeg"
            body = await audio.read()
            assert body[:3] == b"ID3" or body[0] == 0xFF  # an MP3, from the renderer
            form = page.find("form", id="family")
            hidden = {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input", type="hidden")}
            data = {
                **hidden,
                "name": "Dara",
                "phone": "097 765 4321",
                "relation": "sibling",
                "gender": "male",
                "birth_year": "1999",
                "province": "12",
                "agreed_to_calls": "yes",
            }
            done = await http.post(f"{system.base_url}{form.attrs['action'].split('#')[0]}", data=data)
            assert done.status == 200

        async def consent_call() -> bool:
            async with system.sessions() as session:
                calls = (await session.scalars(select(Call))).all()
            return any(c.purpose is CallPurpose.CONSENT for c in calls)

        await eventually(consent_call, "the family member got the consent call")
        await eventually(lambda: any(c.to == "+855977654321" for c in system.carrier.placed), "the carrier rang them")
