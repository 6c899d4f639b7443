"""The demo's start page: who is who, one click into each, and the guided story a newcomer follows."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bots.web.pages import render


@dataclass(frozen=True)
class StartPage:
    staff: tuple[str, str] | None  # the dashboard account of this local demo (name, password)
    placeholder_voice: bool


START = web.AppKey("demo_start", StartPage)


def setup(app: web.Application, page: StartPage) -> None:
    app[START] = page
    app.router.add_get("/demo", show)
    app.router.add_get("/demo/", _to_start)
    app.router.add_get("/en/demo", show)  # the site's language switch links here; the demo pages are English


async def _to_start(request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo")


async def show(request: web.Request) -> web.Response:
    page = request.app[START]
    return await render(
        request,
        "start.html",
        {
            "lang": "en",
            "staff": page.staff,
            "placeholder_voice": page.placeholder_voice,
        },
    )
