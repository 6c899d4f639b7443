"""A new company registers on the website: the chat's registration as one form, confirmed in Telegram.

The form asks what the chat asks (name, phone, province, kind, and a licence number for a recruitment agency)
and reads it with the same readers (``jobs_core.company``). The website cannot know who the person is in
Telegram, and every employer acts from a Telegram account (sign-in codes go there, moderators' news too), so a
good form is only kept, with a random link token (its hash stored, 24 hours, once):
``t.me/<bot>?start=reg_<token>``. Whoever opens it and presses Confirm becomes the company's account, through
the chat registration's own service, and the company waits for the moderators like any other.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bots.web import csrf
from bots.web.i18n import web_gettext
from bots.web.pages import DEPS, KEYS, language_of, render
from bots.web.public import FormState
from conversations.errors import error_message
from conversations.flows.register import KINDS
from conversations.i18n import Gettext
from jobs_core import geo
from jobs_core.company import check_company
from jobs_core.errors import InvalidField
from jobs_core.services.employers import REGISTRATION_HOURS, hold_registration
from jobs_core.uow import UnitOfWork

FIELDS = ("name", "phone", "province", "kind", "licence_no")
PAYLOAD = "reg_{token}"  # the bot's start payload (conversations.flows.start.WEB_REGISTRATION)


def setup(app: web.Application) -> None:
    for lang_prefix in ("", "/en"):
        app.router.add_get(f"{lang_prefix}/employers/register", register_page)
        app.router.add_post(f"{lang_prefix}/employers/register", register)


async def _form(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    language = language_of(request)
    _ = web_gettext(language)
    context: dict[str, Any] = {
        "values": values,
        "errors": errors,
        "f": FormState(values, errors),
        "provinces": [(p.code, p.name(language)) for p in geo.provinces()],
        "kinds": [(code, _(label)) for code, label in KINDS.items()],
    }
    return await render(request, "employer_register.html", context, status=status)


def _refusal(error: InvalidField, _: Gettext) -> str:
    # The chat's words, except that a choice here is made in a list, not with buttons.
    if error.code == "invalid_choice":
        return _("Please choose one from the list.")
    return error_message(error, _)


async def register_page(request: web.Request) -> web.Response:
    return await _form(request, {"kind": "employer"}, {})


async def register(request: web.Request) -> web.Response:
    form = await csrf.require(request, await request.app[KEYS].csrf())
    _ = web_gettext(language_of(request))
    values = {name: form.get(name, "").strip() for name in FIELDS}
    company, refused = check_company(values)
    if company is None:
        errors = {name: _refusal(error, _) for name, error in refused.items()}
        return await _form(request, values, errors, status=400)
    dialog = request.app[DEPS].dialog
    token = await hold_registration(company, UnitOfWork(dialog.session_factory, now=dialog.clock()))
    payload = PAYLOAD.format(token=token)
    bot = request.app[DEPS].telegram_bot
    context = {
        "company": company.name,
        "link": f"https://t.me/{bot}?start={payload}" if bot else None,
        "command": f"/start {payload}",
        "hours": REGISTRATION_HOURS,
    }
    return await render(request, "employer_registered.html", context)
