"""The public pages: the job list, a job's page with its voice note and the forms to apply, to have a family
member called about it and to report it.

A visitor has no account and no cookie. What they send goes through the same services, consent rules and caps
as the chats: the website is a relative on the ``web`` channel whose identity is the day's visitor hash (so
"nominations per day" holds per visitor per day) and who is never sent messages (marked unreachable: the
outcome reaches the worker by phone, and the visitor saw the answer on the page).

- Apply for yourself: the applicant is recorded as the worker (nominated by themselves) and an application
  ``awaiting_worker`` is made: the dialer calls, asks consent first, pitches the job, 1 confirms. The employer
  sees nothing before.
- Call my family member: the family member is nominated (consent call) and a call about this job requested.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.web import csrf
from bots.web.counting import client_address, count, visitor_hash
from bots.web.deps import WebDeps
from bots.web.i18n import Gettext, web_gettext
from bots.web.listing import PAGE_SIZE, Filters, browse, read_filters
from bots.web.pages import DEPS, KEYS, base_url, language_of, prefix, render
from conversations.cards import money, place
from conversations.errors import error_message
from conversations.flows.report import REPORT_REASONS
from conversations.labels import FIELDS, PERIODS
from jobs_core import geo
from jobs_core.clock import local, local_date, start_of_local_day
from jobs_core.errors import DomainError, InvalidField, LimitReached, NotAllowed
from jobs_core.model import Consent, Gender, Job, JobStatus, Nomination, Relationship, Report, Sector, Worker
from jobs_core.numbers import parse_int
from jobs_core.phones import normalize_phone
from jobs_core.services import applications, people, reports
from jobs_core.services.people import MIN_WORKER_AGE
from jobs_core.text import clean_text
from jobs_core.uow import UnitOfWork
from media.listing_pitch import pitch_job

log = logging.getLogger(__name__)

RELATIONS = {
    "parent": "My parent",
    "child": "My child",
    "spouse": "My husband or wife",
    "sibling": "My brother or sister",
    "relative": "Another relative",
    "friend": "A friend",
}
# Someone applying for themselves is recorded as nominated by themselves; the call says they gave us their number
# on the website (ivr.recommended.self) and asks their consent the same.
SELF_RELATION = Relationship.SELF
# Statuses whose page is shown, marked closed: what search engines and shared links knew of it stays readable.
REPORTS_PER_DAY = 3  # per visitor (the day's hash) and day
SHOWN_CLOSED = (JobStatus.EXPIRED, JobStatus.FILLED, JobStatus.WITHDRAWN)


def setup(app: web.Application) -> None:
    for lang_prefix in ("", "/en"):
        app.router.add_get(f"{lang_prefix}/", job_list)
        app.router.add_get(f"{lang_prefix}/jobs/{{job_id}}", job_page)
        app.router.add_post(f"{lang_prefix}/jobs/{{job_id}}/apply", apply_for_self)
        app.router.add_post(f"{lang_prefix}/jobs/{{job_id}}/family", call_family_member)
        app.router.add_post(f"{lang_prefix}/jobs/{{job_id}}/report", report)
    app.router.add_get("/en", to_english_home)
    app.router.add_get("/audio/jobs/{job_id}-{lang}.mp3", voice_note)
    app.router.add_get("/go/{job_id}/{where}", share)


async def to_english_home(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/en/")


def deps_of(request: web.Request) -> WebDeps:
    return request.app[DEPS]


def now_of(request: web.Request) -> datetime:
    return deps_of(request).dialog.clock()


def uow_of(request: web.Request) -> UnitOfWork:
    return UnitOfWork(deps_of(request).dialog.session_factory, now=now_of(request))


async def _count(request: web.Request, kind: str, job_id: int = 0) -> None:
    deps = deps_of(request)
    await count(
        deps.dialog.session_factory, request.app[KEYS], request, kind, job_id, today=local_date(now_of(request))
    )


# ------------------------------------------------------------------------------------------------ the list


async def _sectors(session: AsyncSession) -> list[Sector]:
    return list((await session.scalars(select(Sector).order_by(Sector.position, Sector.code))).all())


async def job_list(request: web.Request) -> web.Response:
    language = language_of(request)
    _ = web_gettext(language)
    async with deps_of(request).dialog.session_factory() as session:
        sectors = await _sectors(session)
        filters = read_filters(request.query, {s.code for s in sectors})
        jobs, total = await browse(session, filters, now_of(request))
    await _count(request, "view")
    pages = max(1, -(-total // PAGE_SIZE))
    context = {
        "filters": filters,
        "errors": {name: error_message(e, _) for name, e in filters.errors.items()},
        "provinces": [(p.code, p.name(language)) for p in geo.provinces()],
        "sectors": [(s.code, s.name_km if language == "km" else s.name_en) for s in sectors],
        "cards": [card(job, language, _, now_of(request)) for job in jobs],
        "total": total,
        "page": filters.page,
        "pages": pages,
        "previous": filters.query(filters.page - 1) if filters.page > 1 else None,
        "next": filters.query(filters.page + 1) if filters.page < pages else None,
    }
    status = 400 if filters.errors else 200
    return await render(request, "jobs.html", context, status=status)


def pay_text(job: Job, _: Gettext) -> str:
    if job.salary_amount is None:
        return ""
    period = _(PERIODS[job.salary_period.value]) if job.salary_period else ""
    return f"{money(job.salary_amount, job.salary_currency.value if job.salary_currency else None)} {period}".strip()


def card(job: Job, language: str, _: Gettext, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": job.id,
        "featured": now is not None and job.is_featured(now),
        "title": job.title,
        "employer": job.employer.name,
        "place": place(job, language),
        "pay": pay_text(job, _),
        "audio": f"/audio/jobs/{job.id}-{language}.mp3",
    }


# ------------------------------------------------------------------------------------------------ a job


async def _shown_job(session: AsyncSession, job_id: str) -> Job:
    """A listing that was published and is not hidden (suspended, taken down, a revision); else 404."""
    try:
        number = parse_int("job", job_id, minimum=1, maximum=2**31 - 1)
    except InvalidField:
        raise NotFoundPage from None
    job = await session.get(Job, number)
    if job is None or job.published_at is None or job.revision_of is not None:
        raise NotFoundPage
    if job.status is not JobStatus.PUBLISHED and job.status not in SHOWN_CLOSED:
        raise NotFoundPage
    return job


class NotFoundPage(Exception):
    """Answered with the 404 page in the visitor's language."""


@dataclass
class FormState:
    """One form on the job page: what was typed (kept on a refusal), the errors by field, or what was done."""

    values: dict[str, str]
    errors: dict[str, str]
    done: str = ""


def empty_forms() -> dict[str, FormState]:
    return {name: FormState({}, {}) for name in ("apply", "family", "report")}


async def job_page(request: web.Request) -> web.Response:
    return await _job_page(request, empty_forms())


async def _job_page(request: web.Request, forms: dict[str, FormState], status: int = 200) -> web.Response:
    language = language_of(request)
    _ = web_gettext(language)
    now = now_of(request)
    try:
        async with deps_of(request).dialog.session_factory() as session:
            job = await _shown_job(session, request.match_info["job_id"])
            context = job_context(job, language, _, now, base_url(request))
    except NotFoundPage:
        return await not_found(request)
    if request.method == "GET":
        await _count(request, "view", job.id)
    context.update(
        forms=forms,
        relations=[(code, _(label)) for code, label in RELATIONS.items()],
        genders=[("female", _("Woman")), ("male", _("Man"))],
        provinces=[(p.code, p.name(language)) for p in geo.provinces()],
        reasons=[(code, _(label)) for code, label in REPORT_REASONS.items()],
    )
    return await render(request, "job.html", context, status=status)


def job_context(job: Job, language: str, _: Gettext, now: datetime, site: str) -> dict[str, Any]:
    from bots.web.seo import job_posting

    url = f"{site}{prefix(language)}/jobs/{job.id}"
    details = []
    if job.hours_start and job.hours_end:
        details.append((_("Hours"), f"{job.hours_start:%H:%M}–{job.hours_end:%H:%M}"))
    if job.days_per_week:
        details.append((_("Days a week"), str(job.days_per_week)))
    details.append((_("Workers wanted"), str(job.positions)))
    if job.min_age or job.max_age:
        details.append((_("Age"), f"{job.min_age or MIN_WORKER_AGE}–{job.max_age or ''}"))
    if job.start_date:
        details.append((_("Starts"), job.start_date.isoformat()))
    if job.published_at:
        details.append((_("Posted"), local(job.published_at).date().isoformat()))
    if job.expires_at:
        details.append((_("Open until"), local(job.expires_at).date().isoformat()))
    return {
        "job": job,
        "open": job.is_live(now),
        "title_text": job.title,
        "place_text": place(job, language),
        "pay": pay_text(job, _),
        "sector_name": job.sector.name_km if language == "km" else job.sector.name_en,
        "details": details,
        "audio": f"/audio/jobs/{job.id}-{language}.mp3",
        "url": url,
        "json_ld": job_posting(job, url, now),
        "description": job.description,
        "og_description": " · ".join(x for x in (job.employer.name, place(job, language), pay_text(job, _)) if x),
        "telegram_share": f"/go/{job.id}/telegram?lang={language}",
        "messenger_share": f"/go/{job.id}/messenger?lang={language}",
        "today": local_date(now).isoformat(),
    }


async def not_found(request: web.Request) -> web.Response:
    return await render(request, "not_found.html", {}, status=404)


# ------------------------------------------------------------------------------------------------ forms


def _read_person(form: dict[str, str], this_year: int, *, with_relation: bool) -> dict[str, InvalidField]:
    """Check a person's fields with the services' own readers before anything is written."""
    errors: dict[str, InvalidField] = {}
    checks: list[tuple[str, Any]] = [
        ("name", lambda v: clean_text("name", v, max_length=120, required=True)),
        ("phone", normalize_phone),
        ("gender", lambda v: Gender(v) if v in ("male", "female") else _bad("gender")),
        ("birth_year", lambda v: _birth_year(v, this_year)),
        ("province", lambda v: geo.province(v)),
    ]
    if with_relation:
        checks.append(("relation", lambda v: Relationship(v) if v in RELATIONS else _bad("relation")))
    for name, check in checks:
        try:
            check(form.get(name, ""))
        except InvalidField as error:
            errors[name] = InvalidField(name, error.code, error.message)
    if form.get("agreed_to_calls") != "yes":
        errors["agreed_to_calls"] = InvalidField("agreed_to_calls", "required", "agreement needed")
    return errors


def _bad(field: str) -> None:
    raise InvalidField(field, "invalid_choice", "choose one")


def _birth_year(value: str, this_year: int) -> int:
    year = parse_int("birth_year", value, minimum=this_year - 80, maximum=this_year)
    if this_year - year < MIN_WORKER_AGE:
        raise InvalidField("birth_year", "too_young", "too young")
    return year


async def _form(request: web.Request) -> dict[str, str]:
    return await csrf.require(request, await request.app[KEYS].csrf())


async def _web_relative(request: web.Request, uow: UnitOfWork, language: str, name: str) -> int:
    """The website's relative for this visitor today (see the module's docstring); never sent messages."""
    today = local_date(uow.now())
    salt = await request.app[KEYS].salt(today)
    visitor = visitor_hash(salt, client_address(request), request.headers.get("User-Agent", "")).hex()
    async with uow:
        relative = await people.relative_for(uow, "web", f"{today.isoformat()}:{visitor}", language=language, name=name)
        relative.unreachable = True
        await uow.commit()
        return relative.id


async def _nomination(
    request: web.Request, form: dict[str, str], relative_id: int, relation: str
) -> tuple[int, int, Consent | None]:
    """This relative's nomination of the phone typed: the one they made earlier, else a new one (caps apply)."""
    phone = normalize_phone(form["phone"])
    uow = uow_of(request)
    async with uow:
        existing = await uow.session.scalar(
            select(Nomination)
            .join(Worker, Worker.id == Nomination.worker_id)
            .where(Nomination.relative_id == relative_id, Worker.phone == phone)
        )
        if existing is not None:
            return existing.worker_id, existing.id, existing.known_consent
    result = await people.nominate_worker(
        people.NominateWorker(
            relative_id=relative_id,
            name=form["name"],
            phone=phone,
            relation=relation,
            gender=form["gender"],
            birth_year=form["birth_year"],
            province=form["province"],
            agreed_to_calls=True,
        ),
        uow_of(request),
        per_day=deps_of(request).dialog.nominations_per_day,
    )
    return result.worker_id, result.nomination_id, None


async def _person_form(request: web.Request, which: str) -> web.Response:
    form = await _form(request)
    language = language_of(request)
    _ = web_gettext(language)
    forms = empty_forms()
    state = forms[which] = FormState(values=form, errors={})
    state.values.pop(csrf.FIELD, None)
    uow = uow_of(request)
    errors = _read_person(form, local_date(uow.now()).year, with_relation=which == "family")
    try:
        async with deps_of(request).dialog.session_factory() as session:
            job = await _shown_job(session, request.match_info["job_id"])
            open_now = job.is_live(now_of(request))
    except NotFoundPage:
        return await not_found(request)
    if not open_now:
        state.errors["form"] = error_message(NotAllowed("this job is no longer open"), _)
        return await _job_page(request, forms, status=409)
    if errors:
        state.errors = {name: error_message(e, _) for name, e in errors.items()}
        return await _job_page(request, forms, status=400)
    name = clean_text("name", form["name"], max_length=120, required=True)
    try:
        your_name = clean_text("your_name", form.get("your_name", ""), max_length=120)
        relative_id = await _web_relative(request, uow, language, your_name if which == "family" else name)
        relation = form["relation"] if which == "family" else SELF_RELATION.value
        worker_id, nomination_id, known = await _nomination(request, form, relative_id, relation)
        if known is Consent.OPTED_OUT:
            raise NotAllowed("this person asked not to be contacted")
        if which == "apply":
            result = await applications.apply_for_family(
                applications.ApplyForFamily(job_id=job.id, worker_id=worker_id, relative_id=relative_id, channel="web"),
                uow_of(request),
            )
            state.done = (
                _("You already applied for this job. We will call you to confirm.")
                if result.already_yours
                else _(
                    "Thank you, {name}! We will call you on this number: first to ask if you agree to job calls, "
                    "then about this job. Press 1 on the call to apply. The employer gets your number only then."
                ).format(name=name)
            )
        else:
            await _request_call(request, job.id, worker_id, nomination_id, relative_id)
            state.done = _(
                "We will call {name} about this job. If they have not agreed to job calls yet, we ask them first."
            ).format(name=name)
    except DomainError as error:
        field = getattr(error, "field", "form")
        state.errors = {field if field in state.values else "form": error_message(error, _)}
        return await _job_page(request, forms, status=400 if isinstance(error, InvalidField) else 409)
    state.values = {}
    return await _job_page(request, forms)


async def _request_call(
    request: web.Request, job_id: int, worker_id: int, nomination_id: int, relative_id: int
) -> None:
    uow = uow_of(request)
    async with uow:
        job = await uow.session.get(Job, job_id)
        if job is None or not job.is_live(uow.now()):
            raise NotAllowed("this job is no longer open")
        # The dialer calls: consent first if the worker has not agreed yet, never one who asked not to be called.
        applications.request_call(
            uow, job_id=job_id, worker_id=worker_id, nomination_id=nomination_id, relative_id=relative_id
        )
        uow.audit(f"web:{relative_id}", "job.call_requested", "job", job_id, worker_id=worker_id)
        await uow.commit()


async def apply_for_self(request: web.Request) -> web.Response:
    return await _person_form(request, "apply")


async def call_family_member(request: web.Request) -> web.Response:
    return await _person_form(request, "family")


async def report(request: web.Request) -> web.Response:
    form = await _form(request)
    language = language_of(request)
    _ = web_gettext(language)
    forms = empty_forms()
    state = forms["report"] = FormState(values={k: v for k, v in form.items() if k != csrf.FIELD}, errors={})
    try:
        async with deps_of(request).dialog.session_factory() as session:
            job = await _shown_job(session, request.match_info["job_id"])
    except NotFoundPage:
        return await not_found(request)
    reason = form.get("reason", "")
    try:
        if reason not in REPORT_REASONS:
            raise InvalidField("reason", "invalid_choice", "choose a reason")
        details = clean_text("details", form.get("details", ""), max_length=2000)
        # A report of fees hides a listing at once: an anonymous visitor may file only a few a day.
        relative_id = await _web_relative(request, uow_of(request), language, "")
        async with deps_of(request).dialog.session_factory() as session:
            today = await session.scalar(
                select(func.count())
                .select_from(Report)
                .where(
                    Report.reporter_relative_id == relative_id, Report.created_at >= start_of_local_day(now_of(request))
                )
            )
        if (today or 0) >= REPORTS_PER_DAY:
            raise LimitReached("reports per day", REPORTS_PER_DAY)
        await reports.report_problem(
            reports.ReportProblem(reason=reason, job_id=job.id, details=details, reporter_relative_id=relative_id),
            uow_of(request),
        )
    except DomainError as error:
        field = getattr(error, "field", "form")
        state.errors = {field if field in ("reason", "details") else "form": error_message(error, _)}
        return await _job_page(request, forms, status=409 if isinstance(error, LimitReached) else 400)
    state.values = {}
    state.done = (
        _("Thank you. We have hidden this job until our team has checked it.")
        if reason in reports.PROTECT_FIRST
        else _("Thank you. Our team will look at this job.")
    )
    if reason in reports.PROTECT_FIRST:
        # The listing is hidden now: the page says so instead of showing it.
        return await render(request, "reported.html", {"message": state.done})
    return await _job_page(request, forms)


# ------------------------------------------------------------------------------------------------ audio, shares


async def voice_note(request: web.Request) -> web.StreamResponse:
    """A job's voice note as MP3 from the audio cache (rendered on first ask, with no transaction open)."""
    language = request.match_info["lang"]
    if language not in ("km", "en"):
        raise web.HTTPNotFound()
    deps = deps_of(request)
    try:
        async with deps.dialog.session_factory() as session:
            job = await _shown_job(session, request.match_info["job_id"])
            facts = pitch_job(job, job.voice_clip_approved)
            job_id = job.id
    except NotFoundPage:
        raise web.HTTPNotFound() from None
    make = deps.dialog.audio or deps.dialog.cached_audio
    voice = await make(facts, language) if make is not None else None
    if voice is None or voice.mp3 is None:
        raise web.HTTPNotFound()
    # A player fetches a file in ranges: only the first request of a play counts.
    if request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        await _count(request, "play", job_id)
    response = web.FileResponse(voice.mp3, headers={"Cache-Control": "public, max-age=86400"})
    response.content_type = "audio/mpeg"
    return response


async def share(request: web.Request) -> web.Response:
    """Count a share and go to Telegram's or Messenger's share page with the job's link."""
    from urllib.parse import quote

    where = request.match_info["where"]
    language = request.query.get("lang", "km") if request.query.get("lang") in ("km", "en") else "km"
    try:
        async with deps_of(request).dialog.session_factory() as session:
            job = await _shown_job(session, request.match_info["job_id"])
    except NotFoundPage:
        return await not_found(request)
    url = f"{base_url(request)}{prefix(language)}/jobs/{job.id}"
    if where == "telegram":
        target = f"https://t.me/share/url?url={quote(url, safe='')}&text={quote(job.title, safe='')}"
    elif where == "messenger":
        page = deps_of(request).messenger_page
        target = (
            f"https://m.me/{page}?ref=job_{job.id}" if page else f"fb-messenger://share/?link={quote(url, safe='')}"
        )
    else:
        return await not_found(request)
    await _count(request, "share", job.id)
    raise web.HTTPSeeOther(target)


__all__ = ["FIELDS", "Filters", "setup"]
