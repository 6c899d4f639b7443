"""``bongpheak serve`` with the Messenger settings: the handshake answers and a person's first tap is
answered through the Graph API (the real command in its own process, the fakes on loopback)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from aiohttp import ClientError, ClientSession

from tests.e2e.messenger.conftest import postback_event, sign
from tests.e2e.test_startup import Bongpheak, closed_port
from tests.fakes.messenger_api import VERSION, FakeGraphAPI
from tests.fakes.telegram_api import FakeTelegramAPI


async def test_serve_answers_the_handshake_and_a_first_tap(database_url: str, tmp_path: Path) -> None:
    async with FakeTelegramAPI() as telegram, FakeGraphAPI() as graph:
        port = closed_port()
        process = await Bongpheak(database_url, tmp_path, telegram.base_url).start(
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            STARTUP_TIMEOUT="60",
            MESSENGER_PAGE_TOKEN=graph.token,
            MESSENGER_APP_SECRET="app-secret-for-tests",
            MESSENGER_VERIFY_TOKEN="verify-me",
            MESSENGER_PAGE_ID="bongpheak.jobs",
            MESSENGER_API_BASE_URL=graph.base_url,
            MESSENGER_API_VERSION=VERSION,
        )
        url = f"http://127.0.0.1:{port}/messenger/webhook"
        try:
            async with ClientSession() as http, asyncio.timeout(90):
                challenge = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "4242"}
                while True:
                    try:
                        async with http.get(url, params=challenge) as answer:
                            if answer.status == 200:
                                assert await answer.text() == "4242"
                                break
                    except ClientError:
                        pass
                    assert process.returncode is None
                    await asyncio.sleep(0.2)
                body = json.dumps(
                    {"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [postback_event("901", "start")]}]}
                ).encode()
                headers = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
                async with http.post(url, data=body, headers=headers) as answer:
                    assert answer.status == 200
                async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as answer:
                    assert answer.status == 403
                await _answered(graph, "901")
            assert "language" in graph.to("901")[0].text.lower()
            assert graph.profile and graph.profile[0]["get_started"] == {"payload": "start"}
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 0 and "Traceback" not in err.decode()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _answered(graph: FakeGraphAPI, psid: str) -> None:
    """Until the page has written to ``psid`` (the webhook answered before the processing)."""
    for _ in range(600):
        if graph.to(psid):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing was sent to {psid}")
