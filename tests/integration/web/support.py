"""The website on the real app's routes (``setup_web``, as ``build_app`` mounts it), on the real database,
driven over HTTP; pages parsed with the standard library's HTML parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web import setup_web
from bots.web.deps import WebDeps
from conversations.replies import Voice
from conversations.turn import DialogDeps
from media.composer import PitchJob
from tests.builders import Builder


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        found = []
        for child in self.children:
            if child.tag == tag and all(child.attrs.get(k.rstrip("_")) == v for k, v in attrs.items()):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def all_text(self) -> str:
        return " ".join([self.text, *(c.all_text() for c in self.children)]).strip()

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def by_class(self, name: str) -> list[Element]:
        found = [c for c in self.children if name in c.classes()]
        for child in self.children:
            found.extend(child.by_class(name))
        return found


VOID = {"meta", "link", "input", "br", "img", "hr", "source"}


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def parse(html: str) -> Element:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    builder: Builder
    sessions: async_sessionmaker[AsyncSession]
    deps: DialogDeps
    employer_id: int | None = None

    async def job(self, **changes: object) -> int:
        """A published listing (of one employer, made on first use)."""
        if self.employer_id is None:
            self.employer_id = await self.builder.employer()
        return await self.builder.published(self.employer_id, **changes)

    async def get(self, path: str, status: int = 200, **headers: str) -> Element:
        response = await self.client.get(path, headers=headers)
        body = await response.text()
        assert response.status == status, body[:2000]
        return parse(body)

    async def form(self, page_path: str, form_id: str) -> tuple[str, dict[str, str]]:
        """The action and hidden fields of a form on a page (as a browser would send them)."""
        page = await self.get(page_path)
        form = page.find("form", id=form_id)
        hidden = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input", type="hidden")}
        return form.attrs["action"].split("#")[0], hidden

    async def post(self, action: str, data: dict[str, str], status: int = 200) -> Element:
        response = await self.client.post(action, data=data)
        body = await response.text()
        assert response.status == status, body[:3000]
        return parse(body)


@asynccontextmanager
async def open_site(
    session_factory: async_sessionmaker[AsyncSession],
    now: datetime,
    tmp_path: Path,
    mp3: Path | None = None,
    telegram_bot: str | None = "BongPheakTestBot",
) -> AsyncIterator[Site]:
    """The website on a local port, its clock fixed at ``now``; every voice note is ``mp3`` (else a stub);
    ``telegram_bot``: the bot's username (TELEGRAM_BOT_USERNAME), or None when it is not set."""
    if mp3 is None:
        mp3 = tmp_path / "note.mp3"
        mp3.write_bytes(b"ID3" + b"\0" * 2000)

    async def audio(job: PitchJob, language: str) -> Voice:
        return Voice(audio_id=f"{language}-{job.sector}", ogg=None, mp3=mp3)

    deps = DialogDeps(session_factory=session_factory, audio=audio, cached_audio=audio, clock=lambda: now)
    app = web.Application()
    setup_web(app, WebDeps(deps, public_base_url="https://jobs.example.org", telegram_bot=telegram_bot))
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Site(client, Builder(session_factory, now), session_factory, deps)
    finally:
        await client.close()
