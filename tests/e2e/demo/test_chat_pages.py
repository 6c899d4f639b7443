"""The chat simulator's routes over HTTP, without a browser: who gets which chat, refusals in the visitor's
language, the CSRF check, polling, and a typed /start reaching the real bot and its answer coming back."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import ClientSession

from bots.web.demo import chat
from bots.web.i18n import web_gettext
from tests.e2e.demo.chat_fixtures import Demo, demo

__all__ = ["demo"]  # the fixture, imported for pytest

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def khmer(text: str) -> bool:
    return any("\u1780" <= ch <= "\u17ff" for ch in text)


def test_every_word_of_the_chat_page_has_a_khmer_translation() -> None:
    km = web_gettext("km")
    words = [
        *chat.PAGE_WORDS.values(),
        *chat.ROLE_NAMES.values(),
        *(what for commands in chat.COMMANDS.values() for _, what in commands),
        *(what for _, what in chat.SHARED_COMMANDS),
        chat.NOT_DELIVERED,
        chat.PLACEHOLDER_NOTE,
    ]
    assert [w for w in words if km(w) == w] == []


async def test_pages_refusals_and_a_typed_start_answered_by_the_bot(demo: Demo) -> None:
    async with ClientSession() as http:
        # Without a number, each visitor is given a chat of their own.
        first = await http.get(f"{demo.base_url}/demo/chat?as=relative", allow_redirects=False)
        second = await http.get(f"{demo.base_url}/demo/chat?as=relative", allow_redirects=False)
        assert first.status == second.status == 302
        assert first.headers["Location"] != second.headers["Location"]

        refused = await http.get(f"{demo.base_url}/demo/chat?as=worker&lang=km")
        assert refused.status == 400 and khmer(await refused.text())

        page = await http.get(f"{demo.base_url}/demo/chat?as=moderator&in=group&lang=km")
        html = await page.text()
        assert page.status == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert khmer(html) and "ក្រុមអ្នកត្រួតពិនិត្យ" in html  # the moderators' group tab, in Khmer
        assert 'data-command="/mod"' in html

        page = await http.get(f"{demo.base_url}/demo/chat?as=employer&n=7")
        found = TOKEN.search(await page.text())
        assert found is not None
        form: dict[str, Any] = {"as": "employer", "n": "7", "lang": "en", "csrf": found.group(1)}

        async def send(**fields: str) -> tuple[int, dict[str, Any]]:
            async with http.post(f"{demo.base_url}{chat.SEND_PATH}", data={**form, **fields}) as response:
                return response.status, await response.json()

        assert await send(kind="text", text="   ") == (400, {"error": "Type a message first."})
        status, answer = await send(kind="text", text="   ", lang="km")
        assert status == 400 and khmer(answer["error"])
        status, answer = await send(kind="button", message_id="12345", data="browse")
        assert status == 400 and "no longer" in answer["error"]
        status, answer = await send(kind="text", text="/start", csrf="1.forged")
        assert status == 403

        assert await send(kind="text", text="/start") == (200, {"ok": True})
        updates = f"{demo.base_url}/demo/chat/updates?as=employer&n=7"

        async def shown() -> dict[str, Any]:
            async with asyncio.timeout(30):
                while True:
                    async with http.get(f"{updates}&v=-1") as response:
                        view: dict[str, Any] = await response.json()
                    if any(m["from_bot"] for m in view["messages"]):
                        return view
                    await asyncio.sleep(0.1)

        view = await shown()
        mine, *answers = view["messages"]
        assert mine["mine"] and mine["text"] == "/start"
        assert any("Please choose your language" in m["text"] and m["buttons"] for m in answers)
        # Polled again with the version it has: nothing to redraw.
        async with http.get(f"{updates}&v={view['version']}") as response:
            assert (await response.json())["unchanged"] is True
        async with http.get(f"{demo.base_url}/demo/chat/file/NOPE") as response:
            assert response.status == 404
