"""The operator's dashboard at /admin/: figures with charts and CSV, the moderation queues, the prompt packs.

A sub-application, so its sign-in check and headers touch no other route. Every page but the sign-in form
needs a staff session; every POST needs the session's CSRF token (the sign-in form: a double-submit cookie),
checked before the handler runs, so a forged form writes nothing. Decisions go through the same services as
the moderators' chat (``jobs_core.services``), recorded under ``staff:<name>``.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web.admin.accounts import SignedIn, SignInRefused, sign_in, sign_out, signed_in
from bots.web.admin.figures import Table, all_tables
from conversations.cards import job_text
from conversations.flows.moderate import REPORT_REASONS, RISK_REASONS, RISKS, status_words
from conversations.i18n import gettext_for, language_or_default
from jobs_core import geo
from jobs_core.clock import local
from jobs_core.errors import DomainError, IllegalTransition, InvalidField, NotFound
from jobs_core.model import Decision, Employer, Job, JobStatus, Report, ReportStatus, Verification, Worker
from jobs_core.model.base import utcnow
from jobs_core.phones import display_phone
from jobs_core.services import employers, jobs, reports
from jobs_core.services.billing import Billing
from jobs_core.uow import UnitOfWork
from media.catalog import LANGUAGES
from media.pack_check import PackReport, check_pack
from media.packs import clip_sources

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "bp_staff"
SIGN_IN_CSRF_COOKIE = "bp_staff_csrf"
LANGUAGE_COOKIE = "bp_staff_lang"
PUBLIC_ROUTES = frozenset({"sign_in", "sign_in_form", "static"})
CLIP_TYPES = {".wav": "audio/wav", ".ogg": "audio/ogg", ".mp3": "audio/mpeg", ".opus": "audio/ogg"}
FORGED = "This form has expired or did not come from this site. Nothing was changed."
SHOWN = 50  # rows of a queue on one page: moderators work from the top

# What a finished action says on the page it returns to: a closed set, so no text is reflected from the URL.
DONE = {
    "approved": "Job #{id} approved and published.",
    "approved_unpaid": "Job #{id} approved; it is published once the employer has paid.",
    "rejected": "Job #{id} rejected.",
    "changes": "Job #{id} sent back for changes.",
    "verified": "Company #{id} verified.",
    "employer_rejected": "Company #{id} rejected.",
    "report_closed": "Report #{id} closed.",
}


@dataclass(frozen=True)
class AdminDeps:
    sessions: async_sessionmaker[AsyncSession]
    secure_cookies: bool  # PUBLIC_BASE_URL is https: cookies only over https
    clips_dir: Path  # employers' normalised recordings; nothing outside it is served as a job's clip
    prompt_packs: Mapping[str, Path] = field(default_factory=dict)  # language → pack folder
    ffmpeg: str | None = None
    clock: Callable[[], datetime] = utcnow
    billing: Billing | None = None  # payments on: an approved listing may wait for its invoice


ADMIN = web.AppKey("admin_deps", AdminDeps)
PACK_REPORTS = web.AppKey("pack_reports", dict)
STAFF = web.RequestKey("staff", SignedIn)

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: web.Request) -> str:
    return language_or_default(request.query.get("lang") or request.cookies.get(LANGUAGE_COOKIE))


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    lang = language(request)
    staff: SignedIn | None = request.get(STAFF)
    page = _templates.get_template(template).render(
        _=gettext_for(lang),
        lang=lang,
        staff=staff,
        csrf=staff.csrf_token if staff else "",
        path=request.path,
        # Where the language links lead: this page, or for the answer to a form, the page the form was on.
        here=request.path if request.method in ("GET", "HEAD") else _form_page(request),
        **values,
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8", status=status)


def _form_page(request: web.Request) -> str:
    return "/admin/sign-in" if request.match_info.route.name == "sign_in" else "/admin/moderation"


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    """A page saying why (in the staff member's language), with the HTTP status that says it to machines."""
    return render(request, "refused.html", status=status, message=gettext_for(language(request))(message))


# ------------------------------------------------------------------------------------------ sign-in and CSRF


@web.middleware
async def staff_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    deps = request.app[ADMIN]
    route = request.match_info.route.name
    staff = await signed_in(deps.sessions, request.cookies.get(SESSION_COOKIE), deps.clock())
    if staff is not None:
        request[STAFF] = staff
    if route not in PUBLIC_ROUTES:
        if staff is None:
            if request.method in ("GET", "HEAD"):
                to_sign_in = web.HTTPSeeOther("/admin/sign-in")
                _finish(request, to_sign_in)
                raise to_sign_in
            return refuse(request, 403, "Your session has ended: sign in again.")
        if request.method == "POST":
            form = await request.post()
            if not hmac.compare_digest(str(form.get("csrf", "")).encode(), staff.csrf_token.encode()):
                return refuse(request, 403, FORGED)
    try:
        response = await handler(request)
    except web.HTTPException as redirect:  # redirects are raised; they carry the same headers
        _finish(request, redirect)
        raise
    _finish(request, response)
    return response


def _finish(request: web.Request, response: web.StreamResponse) -> None:
    """Headers of every dashboard response, and the language chosen with ?lang= remembered."""
    # Staff pages show phone numbers and decisions: never cached, never framed, scripts only from here.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    if "lang" in request.query:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language(request),
            max_age=365 * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.app[ADMIN].secure_cookies,
            path="/admin/",
        )


async def sign_in_form(request: web.Request) -> web.Response:
    if STAFF in request:
        raise web.HTTPSeeOther("/admin/")
    return _sign_in_page(request, name="", error=None, status=200)


def _sign_in_page(request: web.Request, name: str, error: str | None, status: int) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", status=status, form_csrf=token, name=name, error=error)
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.app[ADMIN].secure_cookies,
        path="/admin/",
    )
    return response


async def sign_in_submit(request: web.Request) -> web.Response:
    deps = request.app[ADMIN]
    form = await request.post()
    cookie = request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(str(form.get("csrf", "")).encode(), cookie.encode()):
        return refuse(request, 403, FORGED)
    name, password = str(form.get("name", ""))[:60], str(form.get("password", ""))[:200]
    _ = gettext_for(language(request))
    if not name.strip() or not password:
        return _sign_in_page(request, name, _("Type your name and your password."), 400)
    try:
        token, _staff = await sign_in(deps.sessions, name, password)
    except SignInRefused as refused:
        error = (
            _("Too many wrong passwords: this account waits 15 minutes.")
            if refused.locked
            else _("Wrong name or password.")
        )
        return _sign_in_page(request, name, error, 401)
    response = web.HTTPSeeOther("/admin/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=deps.secure_cookies,
        path="/admin/",
        max_age=12 * 3600,
    )
    response.del_cookie(SIGN_IN_CSRF_COOKIE, path="/admin/")
    raise response


async def sign_out_submit(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await sign_out(request.app[ADMIN].sessions, token)
    response = web.HTTPSeeOther("/admin/sign-in")
    response.del_cookie(SESSION_COOKIE, path="/admin/")
    raise response


# ------------------------------------------------------------------------------------------------- figures


def _month(request: web.Request) -> date | None:
    """?month=YYYY-MM for the province and sector tables; empty: all time; anything else: HTTPBadRequest."""
    value = request.query.get("month", "").strip()
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise web.HTTPBadRequest(
            text=refuse(request, 400, "The month must be written like 2026-03.").text,
            content_type="text/html",
        ) from None


async def figures_page(request: web.Request) -> web.Response:
    month = _month(request)
    async with request.app[ADMIN].sessions() as session:
        tables = await all_tables(session, month, language(request))
    charts = _charts(tables)
    return render(request, "figures.html", tables=tables, month=month.strftime("%Y-%m") if month else "", charts=charts)


def _charts(tables: list[Table]) -> dict[str, Any]:
    """What the chart script draws: plain numbers from the same tables the page shows."""
    monthly, provinces, sectors = tables[:3]
    return {
        "monthly": {
            "labels": monthly.column("month"),
            "series": {title: monthly.column(title) for title in monthly.columns[1:]},
        },
        "provinces": {
            "labels": provinces.column("province"),
            "series": {t: provinces.column(t) for t in provinces.columns[1:]},
        },
        "sectors": {"labels": sectors.column("sector"), "series": {t: sectors.column(t) for t in sectors.columns[1:]}},
    }


async def figures_csv(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    month = _month(request)
    async with request.app[ADMIN].sessions() as session:
        tables = {t.name: t for t in await all_tables(session, month, language(request))}
    table = tables.get(name)
    if table is None:
        return refuse(request, 404, "There is no such table.")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    suffix = f"-{month:%Y-%m}" if month and name != "monthly" else ""
    return web.Response(
        # A byte-order mark: spreadsheets then read Khmer province and sector names as UTF-8.
        body=("\ufeff" + out.getvalue()).encode(),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="bongpheak-{name}{suffix}.csv"',
        },
    )


# ---------------------------------------------------------------------------------------------- moderation


@dataclass
class QueueCard:
    job: Job
    text: str
    risk: str
    reasons: list[str]
    submitted: str


async def moderation_page(
    request: web.Request, *, status: int = 200, error: str | None = None, typed: Mapping[str, str] | None = None
) -> web.Response:
    lang = language(request)
    _ = gettext_for(lang)
    pages = {queue: _queue_page(request, queue) for queue in QUEUES}
    async with request.app[ADMIN].sessions() as session:
        pending = (
            await session.scalars(
                select(Job)
                .where(Job.status == JobStatus.PENDING_REVIEW)
                .order_by(Job.submitted_at, Job.id)
                .offset((pages["jobs"] - 1) * SHOWN)
                .limit(SHOWN)
            )
        ).all()
        cards = [
            QueueCard(
                job,
                job_text(job, _, lang, with_safety=False),
                _(RISKS.get(job.risk or "", "not screened")),
                [_(RISK_REASONS[c]) if c in RISK_REASONS else c for c in job.risk_reasons or []],
                local(job.submitted_at).strftime("%Y-%m-%d %H:%M") if job.submitted_at else "",
            )
            for job in pending
        ]
        companies = (
            await session.scalars(
                select(Employer)
                .where(Employer.verification == Verification.UNVERIFIED)
                .order_by(Employer.created_at, Employer.id)
                .offset((pages["companies"] - 1) * SHOWN)
                .limit(SHOWN)
            )
        ).all()
        open_reports = await reports.open_reports(
            UnitOfWork(request.app[ADMIN].sessions), limit=SHOWN, offset=(pages["reports"] - 1) * SHOWN
        )
        report_jobs = {
            j.id: j
            for j in (
                await session.scalars(select(Job).where(Job.id.in_([r.job_id for r in open_reports if r.job_id])))
            ).all()
        }
        # A check-in alarm is a report filed by the hired worker themselves (they pressed for help in the
        # check-in call): moderators call them back, so they see the worker's name and phone.
        alarm_workers = {
            w.id: (w.name, display_phone(w.phone))
            for w in (
                await session.scalars(select(Worker).where(Worker.id.in_([r.reporter_worker_id for r in open_reports])))
            ).all()
        }
        totals = {
            "jobs": await _count(session, Job, Job.status == JobStatus.PENDING_REVIEW),
            "companies": await _count(session, Employer, Employer.verification == Verification.UNVERIFIED),
            "reports": await _count(session, Report, Report.status == ReportStatus.OPEN),
        }
    alarms = [r for r in open_reports if r.reporter_worker_id is not None]
    others = [r for r in open_reports if r.reporter_worker_id is None]
    said = request.query.get("done", "")
    done = _(DONE[said]).format(id=request.query.get("id", "")) if said in DONE else None
    return render(
        request,
        "moderation.html",
        status=status,
        cards=cards,
        companies=[(c, display_phone(c.contact_phone), geo.province(c.province_code).name(lang)) for c in companies],
        reports=others,
        alarms=alarms,
        report_jobs=report_jobs,
        alarm_workers=alarm_workers,
        totals=totals,
        shown=SHOWN,
        pagers={queue: _pager(request, queue, pages[queue], totals[queue]) for queue in QUEUES},
        report_reason=lambda r: _(REPORT_REASONS.get(r.reason, r.reason)),
        local_time=lambda at: local(at).strftime("%Y-%m-%d %H:%M"),
        done=done,
        error=error,
        typed=typed or {},
    )


QUEUES = ("jobs", "companies", "reports")


def _queue_page(request: web.Request, queue: str) -> int:
    """The page of one queue (``?jobs_page=2``); anything but a sensible number is the first page."""
    value = request.query.get(f"{queue}_page", "")
    return int(value) if value.isdigit() and 0 < int(value) <= 10_000 else 1


def _pager(request: web.Request, queue: str, page: int, total: int) -> dict[str, str | None]:
    """Links to the queue's earlier and later pages, the other queues' pages kept (each queue pages alone,
    so a moderator deep in the reports does not lose their place by paging the jobs)."""

    def link(to: int) -> str:
        query = {k: v for k, v in request.query.items() if k.endswith("_page") and k != f"{queue}_page"}
        if to > 1:
            query[f"{queue}_page"] = str(to)
        return f"/admin/moderation?{urlencode(sorted(query.items()))}#{queue}"

    last = max(1, -(-total // SHOWN))
    return {
        "newer": link(page - 1) if page > 1 else None,
        "older": link(page + 1) if page < last else None,
        "where": f"{page}/{last}" if last > 1 else "",
    }


async def _count(session: AsyncSession, model: type[Job | Employer | Report], *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or int(value) > 2**31 - 1:
        raise web.HTTPNotFound()
    return int(value)


async def decide_job(request: web.Request) -> web.StreamResponse:
    """Approve (a high-risk listing only with the box ticked), reject or ask for changes with a reason."""
    deps, staff, job_id = request.app[ADMIN], request[STAFF], _id(request)
    form = await request.post()
    _ = gettext_for(language(request))
    verb, reason = str(form.get("decision", "")), str(form.get("reason", ""))[:2000]
    decision = {"approve": Decision.APPROVE, "reject": Decision.REJECT, "changes": Decision.REQUEST_CHANGES}.get(verb)
    typed = {f"reason-{job_id}": reason}
    if decision is None:
        return await moderation_page(
            request, status=400, error=_("Choose approve, reject or ask for changes."), typed=typed
        )
    async with deps.sessions() as session:
        job = await session.get(Job, job_id)
    if job is None:
        return refuse(request, 404, "There is no such job.")
    if decision is Decision.APPROVE and job.risk == "high" and form.get("confirm_high_risk") != "yes":
        error = (
            _("⚠️ Job #{id} is high risk:").format(id=job_id)
            + " "
            + _("tick the box to publish it anyway. Workers will be called about it.")
        )
        return await moderation_page(request, status=400, error=error, typed=typed)
    try:
        command = jobs.ModerateJob(job_id, staff.actor, decision, reason or None, billing=deps.billing)
        outcome = await jobs.moderate_job(command, UnitOfWork(deps.sessions))
    except InvalidField:
        error = _("Job #{id}: write the reason; the employer reads it.").format(id=job_id)
        return await moderation_page(request, status=400, error=error, typed=typed)
    except IllegalTransition:
        async with deps.sessions() as session:
            decided = await session.get(Job, job_id)
        state = status_words(decided.status, _) if decided else ""
        error = _("Job #{id} was already decided: {status}.").format(id=job_id, status=state)
        return await moderation_page(request, status=409, error=error)
    said = {Decision.APPROVE: "approved", Decision.REJECT: "rejected"}.get(decision, "changes")
    if outcome is JobStatus.AWAITING_PAYMENT:
        said = "approved_unpaid"
    raise web.HTTPSeeOther(f"/admin/moderation?done={said}&id={job_id}")


async def decide_company(request: web.Request) -> web.StreamResponse:
    deps, staff, employer_id = request.app[ADMIN], request[STAFF], _id(request)
    form = await request.post()
    _ = gettext_for(language(request))
    verb, reason = str(form.get("decision", "")), str(form.get("reason", ""))[:2000]
    if verb not in ("verify", "reject"):
        return await moderation_page(request, status=400, error=_("Choose verify or reject."))
    if verb == "reject" and not reason.strip():
        # As in the chat: a rejected company is told why.
        error = _("Company #{id}: write the reason; the employer reads it.").format(id=employer_id)
        return await moderation_page(request, status=400, error=error)
    try:
        await employers.decide_employer(
            employers.DecideEmployer(employer_id, staff.actor, verify=verb == "verify", reason=reason or None),
            UnitOfWork(deps.sessions),
        )
    except NotFound:
        return refuse(request, 404, "There is no such company.")
    except DomainError as error:
        return await moderation_page(
            request,
            status=400,
            error=_("Company #{id}: {problem}").format(id=employer_id, problem=str(error)),
            typed={f"company-reason-{employer_id}": reason},
        )
    raise web.HTTPSeeOther(
        f"/admin/moderation?done={'verified' if verb == 'verify' else 'employer_rejected'}&id={employer_id}"
    )


async def decide_report(request: web.Request) -> web.StreamResponse:
    deps, staff, report_id = request.app[ADMIN], request[STAFF], _id(request)
    form = await request.post()
    _ = gettext_for(language(request))
    verb = str(form.get("decision", ""))
    if verb not in ("uphold", "dismiss"):
        return await moderation_page(request, status=400, error=_("Choose uphold or dismiss."))
    try:
        await reports.decide_report(
            reports.DecideReport(
                report_id, staff.actor, uphold=verb == "uphold", resolution=str(form.get("resolution", ""))[:2000]
            ),
            UnitOfWork(deps.sessions),
        )
    except NotFound:
        return refuse(request, 404, "There is no such report.")
    except IllegalTransition:
        return await moderation_page(
            request, status=409, error=_("Report #{id} was already closed.").format(id=report_id)
        )
    raise web.HTTPSeeOther(f"/admin/moderation?done=report_closed&id={report_id}")


async def job_clip(request: web.Request) -> web.StreamResponse:
    """The employer's own recording of a listing, for the moderator to hear before approving it."""
    deps = request.app[ADMIN]
    async with deps.sessions() as session:
        job = await session.get(Job, _id(request))
    if job is None or not job.voice_clip:
        return refuse(request, 404, "This job has no recording.")
    path = await asyncio.to_thread(_clip_file, Path(job.voice_clip), deps.clips_dir)
    if path is None:
        return refuse(request, 404, "This job has no recording.")
    return web.FileResponse(path, headers={"Content-Type": CLIP_TYPES.get(path.suffix.lower(), "audio/wav")})


def _clip_file(path: Path, folder: Path) -> Path | None:
    """The recording if it is a file inside the employers' clip folder (a stored path is not trusted blindly)."""
    path = path.resolve()
    return path if path.is_relative_to(folder.resolve()) and path.is_file() else None


# ------------------------------------------------------------------------------------------------- prompts


async def _pack_report(request: web.Request, lang: str) -> PackReport:
    """`prompts check` of a pack, once per process and pack contents: it decodes every clip (about 9 s for the
    bundled pack on two shared cores), so visitors arriving meanwhile wait for the same check."""
    deps = request.app[ADMIN]
    root = deps.prompt_packs[lang]
    sources = await asyncio.to_thread(clip_sources, root)
    stamps = await asyncio.to_thread(lambda: tuple((k, p.stat().st_mtime_ns) for k, p in sources.items()))
    checks: dict[Any, asyncio.Future[PackReport]] = request.app[PACK_REPORTS]
    key = (lang, stamps)
    if key not in checks:
        checks[key] = asyncio.ensure_future(asyncio.to_thread(check_pack, root, None, deps.ffmpeg))
    return await asyncio.shield(checks[key])


async def prompts_page(request: web.Request) -> web.Response:
    languages = [lang for lang in LANGUAGES if lang in request.app[ADMIN].prompt_packs]
    reports = await asyncio.gather(*(_pack_report(request, lang) for lang in languages))
    return render(request, "prompts.html", packs=list(zip(languages, reports, strict=True)))


async def pack_page(request: web.Request) -> web.Response:
    lang = request.match_info["lang"]
    if lang not in request.app[ADMIN].prompt_packs:
        return refuse(request, 404, "There is no such prompt pack.")
    report = await _pack_report(request, lang)
    defects: dict[str, list[str]] = {}
    for defect in report.defects:
        defects.setdefault(defect.key, []).append(str(defect))
    clips = sorted(clip_sources(request.app[ADMIN].prompt_packs[lang]))
    return render(request, "pack.html", pack_lang=lang, report=report, clips=clips, defects=defects)


async def pack_clip(request: web.Request) -> web.StreamResponse:
    lang, key = request.match_info["lang"], request.match_info["key"]
    root = request.app[ADMIN].prompt_packs.get(lang)
    path = clip_sources(root).get(key) if root is not None else None  # only a known key: no path from the URL
    if path is None:
        return refuse(request, 404, "There is no such clip.")
    return web.FileResponse(path, headers={"Content-Type": CLIP_TYPES.get(path.suffix.lower(), "audio/wav")})


# --------------------------------------------------------------------------------------------------- setup


def setup_admin(app: web.Application, deps: AdminDeps) -> None:
    """Mount the dashboard at /admin/ on the app that serves the webhooks."""
    admin = web.Application(middlewares=[staff_only])
    admin[ADMIN] = deps
    admin[PACK_REPORTS] = {}
    add = admin.router
    add.add_get("/", figures_page, name="figures")
    add.add_get("/sign-in", sign_in_form, name="sign_in_form")
    add.add_post("/sign-in", sign_in_submit, name="sign_in")
    add.add_post("/sign-out", sign_out_submit, name="sign_out")
    add.add_get("/figures/{name}.csv", figures_csv, name="figures_csv")
    add.add_get("/moderation", moderation_page, name="moderation")
    add.add_post("/jobs/{id}/decision", decide_job, name="decide_job")
    add.add_get("/jobs/{id}/clip", job_clip, name="job_clip")
    add.add_post("/companies/{id}/decision", decide_company, name="decide_company")
    add.add_post("/reports/{id}/decision", decide_report, name="decide_report")
    add.add_get("/prompts", prompts_page, name="prompts")
    add.add_get("/prompts/{lang}", pack_page, name="pack")
    add.add_get("/prompts/{lang}/clips/{key}", pack_clip, name="pack_clip")
    add.add_static("/static/", HERE / "static", name="static")
    app.router.add_get("/admin", _to_dashboard)
    app.add_subapp("/admin", admin)


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/admin/")
