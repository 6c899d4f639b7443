"""CSRF protection without a visitor cookie: every form carries a token signed by the app.

A token is ``<issued>.<signature>`` where the signature is an HMAC (key in ``web_keys``) of the issue time, the
form's path and, for someone signed in, their session: a token made for one form does not work for another
or for another person's session, and it expires. Browsers also say where a POST comes from (``Origin``,
``Sec-Fetch-Site``): a request from another site is refused even with a token copied from our page. A refusal
is 403 and nothing is written (the check runs before any handler).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from aiohttp import web

FIELD = "csrf"
LIFETIME_SECONDS = 12 * 3600  # long enough for someone who starts a form and finishes it after lunch


class Refused(Exception):
    """A form without a good token: answered 403 with the "please try again" page (``setup_web``'s middleware)."""


def make_token(key: bytes, path: str, session: str = "", now: float | None = None) -> str:
    issued = str(int(now if now is not None else time.time()))
    return f"{issued}.{_sign(key, issued, path, session)}"


def check_token(key: bytes, token: str, path: str, session: str = "", now: float | None = None) -> bool:
    issued, _, signature = token.partition(".")
    if not issued.isdigit() or not signature:
        return False
    age = (now if now is not None else time.time()) - int(issued)
    if age < -60 or age > LIFETIME_SECONDS:
        return False
    return hmac.compare_digest(signature, _sign(key, issued, path, session))


def same_site(request: web.Request) -> bool:
    """False when the browser says the POST comes from another site; True when it says nothing (old browsers,
    tests) or says it is ours."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.host
    return origin != "null"


def _sign(key: bytes, issued: str, path: str, session: str) -> str:
    message = f"{issued}|{path}|{session}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


async def require(request: web.Request, key: bytes, session: str = "") -> dict[str, str]:
    """The posted form if its token is good and it comes from our site; else 403 (raised)."""
    form = await request.post()
    token = form.get(FIELD)
    if not same_site(request) or not isinstance(token, str) or not check_token(key, token, request.path, session):
        raise Refused()
    return {name: value for name, value in form.items() if isinstance(value, str)}
