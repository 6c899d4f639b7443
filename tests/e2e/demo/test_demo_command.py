"""`make demo`'s command: seeds, renders, serves /demo on the port it was given, and Ctrl-C (SIGINT) stops all of
it cleanly: exit code 0, no process it started left running, an embedded PostgreSQL shut down."""

from __future__ import annotations

from pathlib import Path

from aiohttp import ClientSession

from tests.e2e.demo.support import alive, children_of, free_port, start_demo, stop_quietly, wait_for_demo


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


async def test_with_an_embedded_database_ctrl_c_shuts_the_database_down(tmp_path: Path, audio_cache: Path) -> None:
    data = tmp_path / "data"
    demo = await start_demo(tmp_path, free_port(), DATA_DIR=str(data), AUDIO_CACHE_DIR=str(audio_cache))
    try:
        await wait_for_demo(demo)
        postmaster = int((data / "pgdata" / "postmaster.pid").read_text().split()[0])
        # pg_ctl detaches the server from us: it is found by its pid file, its own processes by their parent.
        started = demo.descendants() | {postmaster} | children_of(postmaster)
        assert alive({postmaster})

        assert await demo.stop() == 0, demo.log()
        assert alive(started | demo.descendants()) == set()
        assert not (data / "pgdata" / "postmaster.pid").exists()
    finally:
        stop_quietly(demo)
