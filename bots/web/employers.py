"""Employers on the website: sign in with a one-time code sent to their Telegram chat, then post a listing
through the same services as the chat (validation, screening, moderation).

Why Telegram and not SMS: every employer registers in the Telegram bot, or on the website's form and then
confirms in the bot (``bots/web/registration.py``; the verified, moderated path), so the chat that registered
the company is where a code can go at no cost and with no new provider: through the
outbox, at Telegram's pace, like every other message. The visitor types the company's phone as registered; the
answer is the same whether or not that phone is known (no one learns which companies are registered). A code
is 6 digits, works 10 minutes, 5 tries; at most 3 codes an hour per employer. The session is a cookie holding a
random token (the table keeps its hash), for employers only: visitors get no cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select, update

from bots.web import csrf
from bots.web.i18n import web_gettext
from bots.web.pages import DEPS, KEYS, base_url, language_of, prefix, render
from bots.web.public import FormState
from conversations.errors import error_message
from conversations.outbox import enqueue, wake_sender
from conversations.replies import Text
from jobs_core import geo
from jobs_core.errors import DomainError, InvalidField
from jobs_core.model import (
    Channel,
    Employer,
    EmployerIdentity,
    Job,
    JobStatus,
    Sector,
    Verification,
    WebSession,
    WebSignInCode,
)
from jobs_core.phones import normalize_phone
from jobs_core.services.billing import prepaid_left
from jobs_core.services.jobs import CreateJob, JobFields, SubmitJob, create_job, submit_job
from jobs_core.uow import UnitOfWork

COOKIE = "bp_employer"
CODE_MINUTES = 10
CODE_TRIES = 5
CODES_PER_HOUR = 3
SESSION_HOURS = 12
# Sent for review only with pay, hours, a place and a description: the same as the chat's summary asks.
REQUIRED = (
    "title",
    "sector",
    "province",
    "description",
    "salary_amount",
    "salary_currency",
    "salary_period",
    "hours_start",
    "hours_end",
)
JOB_FIELDS = (*REQUIRED, "days_per_week", "positions")


def setup(app: web.Application) -> None:
    for lang_prefix in ("", "/en"):
        app.router.add_get(f"{lang_prefix}/employers/", sign_in_page)
        app.router.add_post(f"{lang_prefix}/employers/sign-in", send_code)
        app.router.add_post(f"{lang_prefix}/employers/code", check_code)
        app.router.add_get(f"{lang_prefix}/employers/jobs/new", new_job_page)
        app.router.add_post(f"{lang_prefix}/employers/jobs/new", post_job)


def _hash(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _now(request: web.Request) -> datetime:
    return request.app[DEPS].dialog.clock()


def _uow(request: web.Request) -> UnitOfWork:
    return UnitOfWork(request.app[DEPS].dialog.session_factory, now=_now(request))


# ------------------------------------------------------------------------------------------------ sign-in


def _sign_in(step: str, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {"step": step, "values": values, "errors": errors, "f": FormState(values, errors)}


async def sign_in_page(request: web.Request) -> web.Response:
    bot = request.app[DEPS].telegram_bot
    # The page's main way is the website's form (bots/web/registration.py); this link is the other: the bot
    # straight at the chat registration's first question.
    register = f"https://t.me/{bot}?start=employer" if bot else None
    return await render(request, "employer_sign_in.html", {**_sign_in("phone", {}, {}), "register": register})


async def send_code(request: web.Request) -> web.Response:
    form = await csrf.require(request, await request.app[KEYS].csrf())
    language = language_of(request)
    _ = web_gettext(language)
    try:
        phone = normalize_phone(form.get("phone", ""))
    except InvalidField as error:
        context = _sign_in("phone", {"phone": form.get("phone", "")}, {"phone": error_message(error, _)})
        return await render(request, "employer_sign_in.html", context, status=400)
    now = _now(request)
    async with request.app[DEPS].dialog.session_factory() as session:
        chats = (
            await session.execute(
                select(Employer.id, EmployerIdentity.external_id)
                .join(EmployerIdentity, EmployerIdentity.employer_id == Employer.id)
                .where(
                    Employer.contact_phone == phone,
                    Employer.verification != Verification.REJECTED,
                    EmployerIdentity.channel == Channel.TELEGRAM,
                )
            )
        ).all()
        for employer_id in sorted({row[0] for row in chats}):
            recent = await session.scalar(
                select(func.count())
                .select_from(WebSignInCode)
                .where(WebSignInCode.employer_id == employer_id, WebSignInCode.created_at > now - timedelta(hours=1))
            )
            if (recent or 0) >= CODES_PER_HOUR:
                continue
            code = f"{secrets.randbelow(10**6):06d}"
            row = WebSignInCode(
                employer_id=employer_id,
                code_hash=_hash(f"{employer_id}:{code}"),
                created_at=now,
                expires_at=now + timedelta(minutes=CODE_MINUTES),
                tries=0,
            )
            session.add(row)
            await session.flush()
            text = _(
                "Your sign-in code for the Bong Pheak website: {code}. It works for {minutes} minutes. "
                "Never give it to anyone: our team never asks for it."
            ).format(code=code, minutes=CODE_MINUTES)
            for chat_id in sorted({r[1] for r in chats if r[0] == employer_id}):
                await enqueue(session, "telegram", chat_id, Text(text), f"web-code:{row.id}:{chat_id}", now=now)
        if chats:
            await wake_sender(session, "telegram")
        await session.commit()
    # The same answer for a phone we do not know: nobody learns which companies are registered.
    return await render(request, "employer_sign_in.html", _sign_in("code", {"phone": phone}, {}))


async def check_code(request: web.Request) -> web.Response:
    form = await csrf.require(request, await request.app[KEYS].csrf())
    _ = web_gettext(language_of(request))
    code = "".join(ch for ch in form.get("code", "") if ch.isdigit())
    now = _now(request)
    employer_id: int | None = None
    async with request.app[DEPS].dialog.session_factory() as session:
        try:
            phone = normalize_phone(form.get("phone", ""))
        except InvalidField:
            phone = ""
        candidates = (
            await session.scalars(
                select(WebSignInCode)
                .join(Employer, Employer.id == WebSignInCode.employer_id)
                .where(
                    Employer.contact_phone == phone,
                    WebSignInCode.used_at.is_(None),
                    WebSignInCode.expires_at > now,
                    WebSignInCode.tries < CODE_TRIES,
                )
                .with_for_update(of=WebSignInCode)
            )
        ).all()
        for candidate in candidates:
            if secrets.compare_digest(candidate.code_hash, _hash(f"{candidate.employer_id}:{code}")):
                candidate.used_at = now
                employer_id = candidate.employer_id
                break
        if employer_id is None:
            await session.execute(
                update(WebSignInCode)
                .where(WebSignInCode.id.in_([c.id for c in candidates]))
                .values(tries=WebSignInCode.tries + 1)
            )
            await session.commit()
            context = _sign_in(
                "code",
                {"phone": form.get("phone", ""), "code": form.get("code", "")},
                {"code": _("This code is wrong or has expired. Ask for a new one.")},
            )
            return await render(request, "employer_sign_in.html", context, status=400)
        token = secrets.token_urlsafe(32)
        session.add(
            WebSession(
                token_hash=_hash(token),
                employer_id=employer_id,
                created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
        )
        await session.commit()
    response = web.HTTPSeeOther(f"{prefix(language_of(request))}/employers/jobs/new")
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="Lax",
        secure=base_url(request).startswith("https://"),
        path="/",
    )
    raise response


async def signed_in(request: web.Request) -> tuple[int, str] | None:
    """(employer id, session token) of a live session, else None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    async with request.app[DEPS].dialog.session_factory() as session:
        employer_id = await session.scalar(
            select(WebSession.employer_id).where(
                WebSession.token_hash == _hash(token), WebSession.expires_at > _now(request)
            )
        )
    return (employer_id, token) if employer_id is not None else None


async def signed_in_or_sign_in(request: web.Request) -> tuple[int, str]:
    """(employer id, session token) for a page only a signed-in employer sees; anyone else goes to sign-in."""
    who = await signed_in(request)
    if who is None:
        raise web.HTTPSeeOther(f"{prefix(language_of(request))}/employers/")
    return who


async def signed_in_form(request: web.Request) -> tuple[int, str, dict[str, str]]:
    """(employer id, session token, form) of a post by a signed-in employer, its CSRF token checked against the
    session. The session is checked before the form is read: without one nothing can be written (403)."""
    who = await signed_in(request)
    if who is None:
        raise csrf.Refused()
    employer_id, token = who
    return employer_id, token, await csrf.require(request, await request.app[KEYS].csrf(), session=token)


# ------------------------------------------------------------------------------------------------ a listing


async def _job_form(
    request: web.Request,
    who: tuple[int, str],
    values: dict[str, str],
    errors: dict[str, str],
    done: str = "",
    status: int = 200,
) -> web.Response:
    language = language_of(request)
    _ = web_gettext(language)
    employer_id, token = who
    async with request.app[DEPS].dialog.session_factory() as session:
        sectors = (await session.scalars(select(Sector).order_by(Sector.position, Sector.code))).all()
        # Approved listings waiting for their payment: each links to its page with the KHQR code.
        awaiting = (
            await session.execute(
                select(Job.id, Job.title)
                .where(Job.employer_id == employer_id, Job.status == JobStatus.AWAITING_PAYMENT)
                .order_by(Job.id)
            )
        ).all()
        now = _now(request)
        live = (
            await session.scalars(
                select(Job)
                .where(
                    Job.employer_id == employer_id,
                    Job.status == JobStatus.PUBLISHED,
                    Job.revision_of.is_(None),
                    Job.expires_at > now,
                )
                .order_by(Job.id)
            )
        ).all()
    billing_on = request.app[DEPS].dialog.billing
    prices = billing_on.prices if billing_on is not None else None
    context: dict[str, Any] = {
        "published": [(job.id, job.title, job.is_featured(now)) for job in live],
        "can_feature": prices is not None and bool(prices.featured_week),
        "can_buy_bundles": prices is not None and bool(prices.bundles),
        "prepaid_left": await prepaid_left(_uow(request), employer_id) if prices and prices.bundles else 0,
        "values": values,
        "errors": errors,
        "f": FormState(values, errors),
        "done": done,
        "awaiting": awaiting,
        "sectors": [(s.code, s.name_km if language == "km" else s.name_en) for s in sectors],
        "provinces": [(p.code, p.name(language)) for p in geo.provinces()],
        "currencies": [("USD", "$ USD"), ("KHR", "៛ KHR")],
        "periods": [
            ("month", _("per month")),
            ("day", _("per day")),
            ("hour", _("per hour")),
            ("piece", _("per piece")),
        ],
    }
    return await render(request, "employer_job.html", context, status=status, session=token)


async def new_job_page(request: web.Request) -> web.Response:
    who = await signed_in_or_sign_in(request)
    return await _job_form(request, who, {"positions": "1"}, {})


async def post_job(request: web.Request) -> web.Response:
    employer_id, token, form = await signed_in_form(request)
    who = (employer_id, token)
    _ = web_gettext(language_of(request))
    values = {name: form.get(name, "").strip() for name in JOB_FIELDS}
    missing = {
        name: error_message(InvalidField(name, "required", "required"), _) for name in REQUIRED if not values[name]
    }
    if missing:
        return await _job_form(request, who, values, missing, status=400)
    fields = JobFields(
        title=values["title"],
        sector=values["sector"],
        province=values["province"],
        description=values["description"],
        salary_amount=values["salary_amount"],
        salary_currency=values["salary_currency"],
        salary_period=values["salary_period"],
        hours_start=values["hours_start"],
        hours_end=values["hours_end"],
        days_per_week=values["days_per_week"] or None,
        positions=values["positions"] or 1,
    )
    try:
        job_id = await create_job(CreateJob(employer_id, fields, f"web:employer:{employer_id}"), _uow(request))
        # Screening and the moderators' queue: what the chat's "Send for review" does.
        await submit_job(SubmitJob(job_id, employer_id, f"web:employer:{employer_id}"), _uow(request))
    except DomainError as error:
        field = getattr(error, "field", "form")
        return await _job_form(request, who, values, {field: error_message(error, _)}, status=400)
    done = _(
        "Thank you! Your listing was sent to our team for review. We will tell you in Telegram when it is published."
    )
    return await _job_form(request, who, {"positions": "1"}, {}, done=done)
