"""`make demo`'s command: seeds, renders, serves /demo on the port it was given, and Ctrl-C (SIGINT) stops all of
it cleanly: exit code 0, no process it started left running, an embedded PostgreSQL shut down."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import ClientSession

from tests.e2e.demo.support import alive, children_of, free_port, start_demo, stop_quietly, wait_for_demo
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123456789:AAFakeTokenOfARealBotForTheDemoTest"


async def test_the_demo_serves_its_page_without_the_real_bot_and_stops_cleanly_on_ctrl_c(
    demo_database: str, tmp_path: Path, audio_cache: Path
) -> None:
    demo = await start_demo(
        tmp_path,
        free_port(),
        DATABASE_URL=demo_database,
        DATA_DIR=str(tmp_path),
        AUDIO_CACHE_DIR=str(audio_cache),
        # An operator's real bot token: the demo says it does not use it, and runs with its local fakes.
        TELEGRAM_BOT_TOKEN="123456789:AAFakeTokenOfARealBotForTheDemoTest",
    )
    try:
        await wait_for_demo(demo)
        async with ClientSession() as http, http.get(f"{demo.url}/demo") as response:
            page = await response.text()
        assert "Try Bong Pheak" in page and "/demo/phone" in page
        printed = demo.log(tail=None)
        assert f"Open {demo.url}/demo" in printed and "Ctrl-C to stop" in printed
        assert "TELEGRAM_BOT_TOKEN is set, but a demo database never talks to real Telegram" in printed
        assert "AAFakeTokenOfARealBot" not in printed
        started = demo.descendants()

        assert await demo.stop() == 0, demo.log()
        assert alive(started | demo.descendants()) == set()
        assert "Traceback" not in demo.log(tail=None)
    finally:
        stop_quietly(demo)


async def test_with_an_embedded_database_and_a_bot_token_the_real_bot_runs_apart_and_ctrl_c_stops_all(
    tmp_path: Path, audio_cache: Path
) -> None:
    data = tmp_path / "data"
    async with FakeTelegramAPI() as telegram:  # stands for api.telegram.org
        demo = await start_demo(
            tmp_path,
            free_port(),
            DATA_DIR=str(data),
            AUDIO_CACHE_DIR=str(audio_cache),
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=telegram.base_url,
        )
        try:
            await wait_for_demo(demo)
            # The real bot polls Telegram from a database of its own, beside the demo's.
            async with asyncio.timeout(120):
                while not telegram.calls_of("getUpdates"):  # noqa: ASYNC110 (a fake with no event to wait on)
                    await asyncio.sleep(0.2)
            assert "The real bot (TELEGRAM_BOT_TOKEN) runs too" in demo.log(tail=None)
            postmasters = {int((d / "pgdata" / "postmaster.pid").read_text().split()[0]) for d in (data, data / "live")}
            assert len(postmasters) == 2 and alive(postmasters) == postmasters
            # pg_ctl detaches the servers from us: found by their pid files, their own processes by their parent.
            started = demo.descendants() | postmasters
            for postmaster in postmasters:
                started |= children_of(postmaster)

            assert await demo.stop() == 0, demo.log()
            assert alive(started | demo.descendants()) == set()
            assert not (data / "pgdata" / "postmaster.pid").exists()
            assert not (data / "live" / "pgdata" / "postmaster.pid").exists()
        finally:
            stop_quietly(demo)
