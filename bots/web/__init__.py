"""The public website (and, under ``admin/``, the operators' dashboard), served by the same aiohttp app as
the webhooks: server-rendered Jinja2, forms that work without JavaScript, CSRF on every form, nothing loaded
from another site.

``setup_web(app, deps)`` mounts everything; templates of other parts of ``bots/web`` extend ``base.html``
(found by the shared loader: ``bots/web/templates`` and ``bots/web/admin/templates``).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bots.web import csrf
from bots.web.deps import WebDeps
from bots.web.keys import Keys
from bots.web.pages import DEPS, KEYS, base_url, render

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATE_DIRS = (
    HERE / "templates",
    HERE / "admin" / "templates",
    HERE / "demo" / "templates",
)


@web.middleware
async def _refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A refused CSRF token → 403 with a page in the visitor's language, before anything was written; static
    files may be cached for a day (their names do not change with their content, so not longer)."""
    try:
        response = await handler(request)
    except csrf.Refused:
        back = request.headers.get("Referer", "")
        same = back.startswith(base_url(request)) or back.startswith(f"{request.scheme}://{request.host}/")
        return await render(request, "forbidden.html", {"back": back if same else "/"}, status=403)
    if request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def setup_web(app: web.Application, deps: WebDeps) -> None:
    """Mount the website's routes, templates and static files on ``app``."""
    from bots.web import employers, payments, public, registration, seo

    app.middlewares.append(_refusals)
    app[DEPS] = deps
    app[KEYS] = Keys(deps.dialog.session_factory)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader([str(d) for d in TEMPLATE_DIRS if d.is_dir()]),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.router.add_static("/static/", STATIC, append_version=False)
    seo.setup(app)
    public.setup(app)
    employers.setup(app)
    registration.setup(app)
    payments.setup(app)
