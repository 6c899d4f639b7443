"""Rendering a page: language from the path (``/`` Khmer, ``/en/…`` English), the shared context every
template gets (translate, CSRF token, language links, safety line) and the headers that keep pages to this site.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bots.web import csrf
from bots.web.deps import WebDeps
from bots.web.i18n import web_gettext
from bots.web.keys import Keys
from conversations.cards import safety_line

DEPS = web.AppKey("web_deps", WebDeps)
KEYS = web.AppKey("web_keys", Keys)

# Only what this app serves: no font, script, style or image from anywhere else, and no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def language_of(request: web.Request) -> str:
    return "en" if request.path == "/en" or request.path.startswith("/en/") else "km"


def prefix(language: str) -> str:
    """What goes before a path in ``language``: nothing for Khmer, ``/en`` for English."""
    return "/en" if language == "en" else ""


def without_language(path: str) -> str:
    if path == "/en":
        return "/"
    return path[3:] if path.startswith("/en/") else path


def base_url(request: web.Request) -> str:
    configured = request.app[DEPS].public_base_url
    return (configured or f"{request.scheme}://{request.host}").rstrip("/")


async def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200, session: str = ""
) -> web.Response:
    """``template`` in the visitor's language; ``session``: a signed-in person's session, bound into tokens."""
    language = str(context.get("lang") or language_of(request))
    _ = web_gettext(language)
    key = await request.app[KEYS].csrf()
    bare = without_language(request.path)
    query = f"?{request.query_string}" if request.query_string else ""
    shared: dict[str, Any] = {
        "lang": language,
        "_": _,
        "p": prefix(language),
        "csrf_field": csrf.FIELD,
        "csrf": lambda path: csrf.make_token(key, path, session),
        "km_url": bare + query,
        "en_url": ("/en" + bare if bare != "/" else "/en/") + query,
        "safety": safety_line(_),
        "base_url": base_url(request),
    }
    response = aiohttp_jinja2.render_template(template, request, {**shared, **context}, status=status)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = language
    return response
