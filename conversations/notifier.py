"""The push side: domain events become outbox messages for relatives, employers and moderators.

    claimed = await notify_once(deps)        # one batch; returns how many events it claimed
    await run_notifier(deps, stop_event)     # a loop for the ``serve`` process

The notifier is consumer ``"conversations"`` of the one event log (``jobs_core.event_log``), with the
``{kind: handler}`` table ``HANDLERS``: each event's outbox rows and its handled mark commit together, a
handler that raises is retried with backoff and dead-lettered after the last try, and every outbox row's
``dedupe_key`` names the event and the chat, so an event handled twice never queues a message twice. Kinds
not in the table are not this consumer's business. Voice notes are rendered by ``prepare_voices`` before the
claim, with no transaction open; the handlers only look them up.

Who hears what:
  job.published            alerts to matching subscribers (a job card with its voice note; held back
                           through the night, 21:00-07:00 Phnom Penh); the employer
  job.revised              (an edit of a published listing approved) the employer; its voice notes re-rendered
  job.rejected / job.changes_requested / employer.verified / employer.rejected → the employer
  job.submitted, employer.registered, report.filed, checkin.alarm → the moderators (group or each id);
                           a submitted job's card is followed by the pitch callers would hear
  report.decided           the relative who reported: the outcome
  job.suspended            alerts for that job still waiting in the outbox are withheld
  job.reinstated           (the report was dismissed) the withheld alerts go out after all
  job.taken_down           the employer
  invoice.issued           (a listing approved, payments on) the employer: the invoice and its KHQR code
  invoice.paid / .expired / .unpaid / .refunded → the employer: a receipt, a "new QR code" button, "not paid
                           yet" (they pressed "check payment"), the money paid back
  invoice.refund_due       the moderators (the operator): money to pay back, with a "refunded" button
  application.created      (a worker applied, or confirmed a relative's application with 1) the employer,
                           with the worker's phone only once the employer is verified; the applying relative
  application.contacted / .hired / .not_hired / .withdrawn / .expired → the relative who applied
  worker.consented / .declined / .opted_out → every relative who had nominated the worker by then
  call.applied             the relatives whose nominations were there when the worker agreed to calls
  call.missed              the relative of that nomination, if the call was theirs to hear of
  event.dead_lettered      the moderators: a consumer gave up on an event after its last try
  call.unreachable         every relative who had nominated the worker: the number does not exist
  voice.paused / .resumed  the moderators: the voice provider refused our account, calls wait / go on

Privacy by relationship: a relative is told only about their own nominations and applications, under the
name they typed; never about a decision taken before they nominated (it answered another family).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.cards import job_buttons, job_text
from conversations.flows.moderate import employer_review_card, job_review_card, pitch_caption, report_card
from conversations.i18n import LANGUAGES, N_, Gettext, gettext_for, language_or_default
from conversations.invoices import (
    amount_words,
    expired_notice,
    invoice_replies,
    receipt,
    refund_due_card,
    unpaid_notice,
)
from conversations.outbox import BULK, NORMAL, URGENT, OutboxMessage, enqueue
from conversations.replies import Button, JobCard, Reply, Text, Voice
from conversations.state import ConversationState
from conversations.turn import DialogDeps
from jobs_core.backoff import Backoff
from jobs_core.clock import PHNOM_PENH, local
from jobs_core.event_log import DEAD_LETTERED, Consumer, consume_once
from jobs_core.matching import matching_subscribers
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Call,
    CallPurpose,
    Employer,
    EmployerIdentity,
    Event,
    Invoice,
    Job,
    Nomination,
    Product,
    Relative,
    Report,
    Verification,
    Worker,
)
from jobs_core.phones import display_phone
from jobs_core.services.applications import applicant_name
from media.composer import PitchJob
from media.listing_pitch import pitch_job

CONSUMER = "conversations"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    channel: str
    chat_id: str
    language: str


@dataclass
class Batch:
    """One round of the notifier: its dependencies and the voice notes rendered for it before the claim."""

    deps: DialogDeps
    voices: dict[tuple[PitchJob, str], Voice | None] = field(default_factory=dict)


def _facts(job: Job, with_clip: bool | None) -> PitchJob | None:
    try:
        return pitch_job(job, job.voice_clip_approved if with_clip is None else with_clip)
    except ValueError:  # facts no pitch can speak: the card goes out without a voice note
        return None


class _Context:
    def __init__(self, session: AsyncSession, batch: Batch, event: Event) -> None:
        self.session, self.deps, self.event = session, batch.deps, event
        self.voices = batch.voices
        self.queued = 0

    def voice(self, job: Job, language: str, with_clip: bool | None = None) -> Voice | None:
        """The job's voice note as ``prepare_voices`` rendered it; never renders (a transaction is open)."""
        facts = _facts(job, with_clip)
        return self.voices.get((facts, language)) if facts is not None else None

    def job_card(self, job: Job, language: str) -> JobCard:
        _ = gettext_for(language)
        return JobCard(job.id, job_text(job, _, language), self.voice(job, language), job_buttons(job.id, _))

    async def send(self, to: Recipient, make: Callable[[Gettext], Reply], priority: int = NORMAL) -> None:
        reply = make(gettext_for(to.language))
        key = f"ev:{self.event.id}:{to.channel}:{to.chat_id}"
        if await enqueue(self.session, to.channel, to.chat_id, reply, key, priority=priority, now=self.deps.clock()):
            self.queued += 1

    async def send_reply(
        self, to: Recipient, reply: Reply, priority: int, not_before: datetime | None = None, part: str = ""
    ) -> None:
        """``part`` names a second message for the same event and chat (its own dedupe key)."""
        key = f"ev:{self.event.id}:{to.channel}:{to.chat_id}{part}"
        now = self.deps.clock()
        if await enqueue(
            self.session, to.channel, to.chat_id, reply, key, priority=priority, not_before=not_before, now=now
        ):
            self.queued += 1

    # ------------------------------------------------------------------ recipients

    def relative(self, relative: Relative | None) -> Recipient | None:
        if relative is None or relative.stopped or relative.unreachable:
            return None
        return Recipient(relative.channel.value, relative.external_id, relative.language.value)

    async def employer(self, employer_id: int | None) -> list[Recipient]:
        if employer_id is None:
            return []
        identities = (
            await self.session.scalars(select(EmployerIdentity).where(EmployerIdentity.employer_id == employer_id))
        ).all()
        found = []
        for identity in identities:
            language = await self.session.scalar(
                select(ConversationState.language).where(
                    ConversationState.channel == identity.channel.value,
                    ConversationState.chat_id == identity.external_id,
                    ConversationState.user_id == identity.external_id,
                )
            )
            found.append(Recipient(identity.channel.value, identity.external_id, language_or_default(language)))
        return found

    def moderators(self) -> list[Recipient]:
        deps = self.deps
        language = language_or_default(deps.moderators_language)
        if deps.moderators_chat_id:
            return [Recipient(deps.moderators_channel, deps.moderators_chat_id, language)]
        return [Recipient(deps.moderators_channel, user, language) for user in sorted(deps.moderator_ids)]

    async def nominating_relatives(self, worker_id: int, by: datetime) -> list[tuple[Recipient, Nomination]]:
        """Relatives whose nomination of the worker existed at ``by``, with their own nomination."""
        rows = (
            await self.session.scalars(
                select(Nomination).where(Nomination.worker_id == worker_id, Nomination.created_at <= by)
            )
        ).all()
        return [(to, n) for n in rows if (to := self.relative(n.relative)) is not None]


Handler = Callable[[_Context, dict[str, Any]], Awaitable[None]]

# Alerts are not urgent: none arrives in Phnom Penh between 21:00 and 07:00.
QUIET_FROM, QUIET_UNTIL = time(21), time(7)


def outside_quiet_hours(now: datetime) -> datetime:
    """``now``, or the end of the night's quiet hours when ``now`` falls inside them."""
    here = local(now)
    if QUIET_UNTIL <= here.time() < QUIET_FROM:
        return now
    day = here.date() if here.time() < QUIET_UNTIL else here.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=PHNOM_PENH).astimezone(UTC)


# ------------------------------------------------------------------------------------------------ handlers


async def job_published(c: _Context, p: dict[str, Any]) -> None:
    job = await c.session.get(Job, p.get("job_id"))
    if job is None or not job.is_live(c.deps.clock()):
        return
    # The voice notes were rendered before the claim, in both languages (``prepare_voices``), so no later
    # send (alert, browse, share) waits for ffmpeg.
    not_before = outside_quiet_hours(c.deps.clock())
    for relative in await matching_subscribers(c.session, job):
        to = c.relative(relative)
        if to is not None:
            # An alert says what it is at its top: a card among chat messages is otherwise easy to take for old.
            card = c.job_card(job, to.language)
            header = gettext_for(to.language)(N_("🆕 New job"))
            await c.send_reply(to, replace(card, text=f"{header}\n{card.text}"), BULK, not_before)
    for to in await c.employer(job.employer_id):
        await c.send(to, lambda _: Text(_('Your job "{title}" is published. 🎉').format(title=job.title)))


async def job_revised(c: _Context, p: dict[str, Any]) -> None:
    """An approved edit of a published listing: the employer is told (the new voice notes were rendered
    before the claim; subscribers are not alerted again: it is the same job)."""
    job = await c.session.get(Job, p.get("job_id"))
    if job is None:
        return
    for to in await c.employer(job.employer_id):
        await c.send(to, lambda _: Text(_('Your changes to "{title}" are published. ✅').format(title=job.title)))


async def job_decided(c: _Context, p: dict[str, Any]) -> None:
    job = await c.session.get(Job, p.get("job_id"))
    if job is None:
        return
    reason = p.get("reason") or ""

    def make(_: Gettext) -> Reply:
        if c.event.kind == "job.rejected":
            text = _('Your job "{title}" was not approved. Reason: {reason}')
        else:
            text = _('Please change your job "{title}": {reason}')
        return Text(text.format(title=job.title, reason=reason), ((Button(_("📋 My listings"), "listings"),),))

    for to in await c.employer(job.employer_id):
        await c.send(to, make)


async def employer_decided(c: _Context, p: dict[str, Any]) -> None:
    employer = await c.session.get(Employer, p.get("employer_id"))
    if employer is None:
        return
    for to in await c.employer(employer.id):
        if c.event.kind == "employer.verified":
            await c.send(to, lambda _: Text(_("Your company {name} is verified ✅").format(name=employer.name)))
        else:
            await c.send(
                to,
                lambda _: Text(
                    _("Your company {name} was not approved. Reason: {reason}").format(
                        name=employer.name, reason=employer.rejection_reason or ""
                    )
                ),
            )


async def job_submitted(c: _Context, p: dict[str, Any]) -> None:
    job = await c.session.get(Job, p.get("job_id"))
    if job is None:
        return
    for to in c.moderators():
        priority = URGENT if job.risk == "high" else NORMAL
        _ = gettext_for(to.language)
        await c.send_reply(to, Text(*job_review_card(job, _, to.language)), priority)
        # Right after the card: the pitch callers would hear, the employer's own recording spliced in.
        voice = c.voice(job, to.language, with_clip=True)
        if voice is not None:
            caption = pitch_caption(job, _)
            await c.send_reply(to, replace(voice, caption=caption, buttons=()), priority, part=":voice")


async def employer_registered(c: _Context, p: dict[str, Any]) -> None:
    employer = await c.session.get(Employer, p.get("employer_id"))
    if employer is None:
        return
    for to in c.moderators():
        _ = gettext_for(to.language)
        await c.send_reply(to, Text(*employer_review_card(employer, _, to.language)), NORMAL)


async def report_filed(c: _Context, p: dict[str, Any]) -> None:
    report = await c.session.get(Report, p.get("report_id"))
    if report is None:
        return
    job = await c.session.get(Job, report.job_id) if report.job_id else None
    priority = URGENT if p.get("priority") == "high" else NORMAL
    for to in c.moderators():
        await c.send(to, lambda _: Text(*report_card(report, job, _)), priority)


async def application_created(c: _Context, p: dict[str, Any]) -> None:
    application = await c.session.get(Application, p.get("application_id"))
    if application is None or application.confirmed_at is None:
        return  # never before the worker said yes
    job, relative = application.job, application.relative
    name = await applicant_name(c.session, application)
    worker = application.worker
    phone = worker.phone if worker else (relative.phone if relative else None)
    employer = await c.session.get(Employer, job.employer_id)
    verified = employer is not None and employer.verification is Verification.VERIFIED
    for to in await c.employer(job.employer_id):
        # The worker's phone goes to the employer of this job only, and only once the employer is verified.
        def make(_: Gettext) -> Reply:
            lines = [_('New application for "{title}"').format(title=job.title), f"👤 {name}"]
            if phone and verified:
                lines.append(f"📞 {display_phone(phone)}")
            elif phone:
                lines.append(_("You will see the phone number once our moderators have verified your company."))
            return Text("\n".join(lines), ((Button(_("👥 Applications"), f"lst:{job.id}:apps"),),))

        await c.send(to, make)
    to_relative = c.relative(relative)
    if to_relative is not None:
        await c.send(
            to_relative,
            lambda _: Text(
                _('{name} said yes on the phone: the application for "{title}" was sent to the employer.').format(
                    name=name, title=job.title
                )
            ),
        )


async def application_progress(c: _Context, p: dict[str, Any]) -> None:
    application = await c.session.get(Application, p.get("application_id"))
    if application is None:
        return
    to = c.relative(application.relative)
    if to is None:
        return
    name = await applicant_name(c.session, application)
    title = application.job.title
    template = PROGRESS_TEXTS[c.event.kind]
    await c.send(to, lambda _: Text(_(template).format(name=name, title=title)))


PROGRESS_TEXTS = {
    "application.contacted": N_('The employer of "{title}" says they contacted {name}.'),
    "application.hired": N_('Good news: {name} was hired for "{title}". 🎉'),
    "application.not_hired": N_('{name} was not chosen for "{title}". Keep looking, there are more jobs.'),
    "application.withdrawn": N_('{name} did not confirm the application for "{title}". The employer did not get it.'),
    "application.expired": N_('"{title}" closed before {name} confirmed. The employer did not get the application.'),
}
CONSENT_TEXTS = {
    "worker.consented": N_("{name} agreed to receive job calls. We will call when a job fits."),
    "worker.declined": N_("{name} did not want job calls for now."),
    "worker.opted_out": N_("{name} asked us never to call again. We will not call them."),
}


async def worker_consent(c: _Context, p: dict[str, Any]) -> None:
    template = CONSENT_TEXTS[c.event.kind]
    worker_id = int(p.get("worker_id", 0))
    applied = await _applied_in_the_same_call(c, worker_id) if c.event.kind == "worker.consented" else set()
    for to, nomination in await c.nominating_relatives(worker_id, c.event.created_at):
        if nomination.relative_id in applied:
            continue
        await c.send(to, lambda _, n=nomination.name: Text(_(template).format(name=n)))  # type: ignore[misc]


async def _applied_in_the_same_call(c: _Context, worker_id: int) -> set[int]:
    """Relatives whose application for the worker led to the call in which the worker agreed: the call goes on to
    that job, and its outcome ("said yes: sent to the employer") is their one message, not a near-identical
    "agreed to job calls" just before it."""
    at = c.event.created_at
    rows = await c.session.scalars(
        select(Application.relative_id).where(
            Application.worker_id == worker_id,
            Application.relative_id.is_not(None),
            Application.created_at <= at,
            (Application.status == ApplicationStatus.AWAITING_WORKER) | (Application.confirmed_at >= at),
        )
    )
    return {r for r in rows if r is not None}


def _there_at_consent(nomination: Nomination) -> bool:
    """The nomination existed when the worker agreed to calls: the calls since are its outcome."""
    changed = nomination.worker.consent_changed_at
    return changed is not None and nomination.created_at <= changed


async def call_missed(c: _Context, p: dict[str, Any]) -> None:
    nomination = await c.session.get(Nomination, p.get("nomination_id"))
    if nomination is None:
        return
    call = await c.session.get(Call, p.get("call_id")) if p.get("call_id") else None
    own_application = False
    if call is not None and call.application_id is not None:
        application = await c.session.get(Application, call.application_id)
        own_application = application is not None and application.relative_id == nomination.relative_id
    theirs = call is None or call.purpose is CallPurpose.CONSENT or own_application or _there_at_consent(nomination)
    to = c.relative(nomination.relative)
    if to is not None and theirs:
        name = nomination.name
        await c.send(
            to,
            lambda _: Text(
                _("We could not reach {name} by phone. Please tell them we will call again.").format(name=name)
            ),
        )


async def call_applied(c: _Context, p: dict[str, Any]) -> None:
    job = await c.session.get(Job, p.get("job_id"))
    title = job.title if job else ""
    for to, nomination in await c.nominating_relatives(int(p.get("worker_id", 0)), c.event.created_at):
        if not _there_at_consent(nomination):
            continue
        await c.send(
            to,
            lambda _, n=nomination.name: Text(  # type: ignore[misc]
                _('{name} applied by phone for "{title}". The employer will contact them.').format(name=n, title=title)
            ),
        )


async def checkin_alarm(c: _Context, p: dict[str, Any]) -> None:
    worker = await c.session.get(Worker, p.get("worker_id"))
    name = worker.name if worker else "?"
    phone = display_phone(worker.phone) if worker else ""
    for to in c.moderators():
        await c.send(
            to,
            lambda _: Text(
                _("🚨 Check-in alarm: {name} ({phone}) asked for help after being hired. Report #{report}.").format(
                    name=name, phone=phone, report=p.get("report_id")
                ),
                ((Button(_("⚠️ Reports"), "modr"),),),
            ),
            URGENT,
        )


REPORT_OUTCOMES = {
    "resolved": N_('Thank you for your report about "{title}". Our team checked it and took the job down.'),
    "dismissed": N_(
        'Thank you for your report about "{title}". Our team checked it and could not confirm the problem, '
        "so the job stays. If something happens, please report again."
    ),
}


async def report_decided(c: _Context, p: dict[str, Any]) -> None:
    """The relative who reported hears what the moderators decided, in their language."""
    report = await c.session.get(Report, p.get("report_id"))
    if report is None or report.reporter_relative_id is None:
        return
    to = c.relative(await c.session.get(Relative, report.reporter_relative_id))
    template = REPORT_OUTCOMES.get(str(p.get("outcome")))
    if to is None or template is None:
        return
    job = await c.session.get(Job, report.job_id) if report.job_id else None
    title = job.title if job else ""
    await c.send(to, lambda _: Text(_(template).format(title=title)))


WITHHELD = "withheld: the job was suspended after a report"


def _unsent_alerts(p: dict[str, Any]) -> Any:
    """The job cards about the event's job still waiting in the outbox."""
    return update(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.payload["type"].astext == "job_card",
        OutboxMessage.payload["job_id"].as_integer() == int(p.get("job_id", 0)),
    )


async def job_suspended(c: _Context, p: dict[str, Any]) -> None:
    """Alerts about a suspended job that are still waiting (quiet hours) are withheld until a moderator decides."""
    await c.session.execute(
        _unsent_alerts(p).where(OutboxMessage.failed.is_(False)).values(failed=True, error=WITHHELD)
    )


async def job_reinstated(c: _Context, p: dict[str, Any]) -> None:
    """The report was dismissed: the alerts withheld meanwhile go out after all (at their own hour)."""
    await c.session.execute(_unsent_alerts(p).where(OutboxMessage.error == WITHHELD).values(failed=False, error=None))


async def job_taken_down(c: _Context, p: dict[str, Any]) -> None:
    job = await c.session.get(Job, p.get("job_id"))
    if job is None:
        return
    for to in await c.employer(job.employer_id):
        await c.send(
            to,
            lambda _: Text(
                _('Your job "{title}" was taken down by our moderators after a check.').format(title=job.title)
            ),
        )


async def event_dead_lettered(c: _Context, p: dict[str, Any]) -> None:
    """A consumer gave up on an event after its last try: the moderators hear of it at once."""
    for to in c.moderators():
        await c.send(
            to,
            lambda _: Text(
                _("⚠️ {consumer} gave up on event #{event} ({kind}) after {attempts} tries. Last error: {error}").format(
                    consumer=p.get("consumer"),
                    event=p.get("event_id"),
                    kind=p.get("kind"),
                    attempts=p.get("attempts"),
                    error=p.get("error"),
                )
            ),
            URGENT,
        )


async def call_unreachable(c: _Context, p: dict[str, Any]) -> None:
    """The network says the worker's number does not exist: those who gave it may know the right one."""
    for to, nomination in await c.nominating_relatives(int(p.get("worker_id", 0)), c.event.created_at):
        name = nomination.name
        await c.send(
            to,
            lambda _, n=name: Text(  # type: ignore[misc]
                _(
                    "We could not call {name}: the phone network says the number does not exist. "
                    "We will not call it again. Please check the number and nominate them again."
                ).format(name=n)
            ),
        )


async def voice_paused(c: _Context, p: dict[str, Any]) -> None:
    """The voice provider refused our account: no call is placed until it takes one again."""
    for to in c.moderators():
        if c.event.kind == "voice.paused":
            await c.send(
                to,
                lambda _: Text(
                    _(
                        "⚠️ Phone calls are paused: the voice provider refused our account ({reason}). "
                        "No call is lost; they go out once it accepts the account again."
                    ).format(reason=p.get("reason"))
                ),
                URGENT,
            )
        else:
            await c.send(to, lambda _: Text(_("✅ Phone calls go out again: the voice provider accepts our account.")))


async def invoice_issued(c: _Context, p: dict[str, Any]) -> None:
    """The employer's invoice and KHQR code, in two messages (a renewal pressed in chat was shown there)."""
    invoice = await c.session.get(Invoice, p.get("invoice_id"))
    if invoice is None or invoice.renewal_of is not None or invoice.product is not Product.LISTING:
        return  # a renewal, a bundle or featured weeks: asked for by the employer, shown to them at once
    job = await c.session.get(Job, invoice.job_id) if invoice.job_id else None
    for to in await c.employer(invoice.employer_id):
        for n, reply in enumerate(invoice_replies(invoice, job, gettext_for(to.language))):
            await c.send_reply(to, reply, URGENT, part=f":{n}" if n else "")


async def invoice_news(c: _Context, p: dict[str, Any]) -> None:
    """Paid (a receipt), expired (a "new QR code" button), still unpaid after "check payment", refunded."""
    invoice = await c.session.get(Invoice, p.get("invoice_id"))
    if invoice is None:
        return
    job = await c.session.get(Job, invoice.job_id) if invoice.job_id else None

    def make(_: Gettext) -> Reply:
        if c.event.kind == "invoice.paid":
            return receipt(invoice, job, _)
        if c.event.kind == "invoice.expired":
            return expired_notice(invoice, job, _)
        if c.event.kind == "invoice.unpaid":
            return unpaid_notice(invoice, _)
        return Text(
            _("We paid back {amount} for invoice {reference}.").format(
                amount=amount_words(invoice), reference=invoice.reference
            )
        )

    for to in await c.employer(invoice.employer_id):
        await c.send(to, make, URGENT if c.event.kind != "invoice.refunded" else NORMAL)


async def invoice_refund_due(c: _Context, p: dict[str, Any]) -> None:
    """Money to pay back (a paid listing taken down for safety, a payment after the listing closed)."""
    invoice = await c.session.get(Invoice, p.get("invoice_id"))
    if invoice is None:
        return
    job = await c.session.get(Job, invoice.job_id) if invoice.job_id else None
    reason = str(p.get("reason") or invoice.refund_reason or "")
    for to in c.moderators():
        await c.send(to, lambda _: refund_due_card(invoice, job, reason, _), URGENT)


HANDLERS: dict[str, Handler] = {
    "job.published": job_published,
    "job.revised": job_revised,
    "job.rejected": job_decided,
    "job.changes_requested": job_decided,
    "job.submitted": job_submitted,
    "employer.registered": employer_registered,
    "employer.verified": employer_decided,
    "employer.rejected": employer_decided,
    "report.filed": report_filed,
    "application.created": application_created,
    "application.contacted": application_progress,
    "application.hired": application_progress,
    "application.not_hired": application_progress,
    "application.withdrawn": application_progress,
    "application.expired": application_progress,
    "worker.consented": worker_consent,
    "worker.declined": worker_consent,
    "worker.opted_out": worker_consent,
    "call.missed": call_missed,
    "call.applied": call_applied,
    "checkin.alarm": checkin_alarm,
    "report.decided": report_decided,
    "job.suspended": job_suspended,
    "job.reinstated": job_reinstated,
    "job.taken_down": job_taken_down,
    DEAD_LETTERED: event_dead_lettered,
    "call.unreachable": call_unreachable,
    "voice.paused": voice_paused,
    "voice.resumed": voice_paused,
    "invoice.issued": invoice_issued,
    "invoice.paid": invoice_news,
    "invoice.expired": invoice_news,
    "invoice.unpaid": invoice_news,
    "invoice.refunded": invoice_news,
    "invoice.refund_due": invoice_refund_due,
}


async def prepare_voices(events: Sequence[Event], batch: Batch) -> None:
    """Render the voice notes the batch's handlers will need, before the claim and with no transaction open:
    publication renders both languages (alerts, browse and share later find them cached); a submitted job,
    the pitch with the employer's own recording that the moderators hear."""
    deps = batch.deps
    if deps.audio is None:
        return
    wanted: list[tuple[PitchJob, str]] = []
    async with deps.session_factory() as session:  # a read, closed before anything is rendered
        for event in events:
            if event.kind not in ("job.published", "job.submitted", "job.revised"):
                continue
            job = await session.get(Job, (event.payload or {}).get("job_id"))
            if job is None:
                continue
            # An approved edit changes what the notes say: they are rendered anew, like at publication (the
            # cache is keyed by the facts, so the old notes are simply no longer asked for).
            if event.kind in ("job.published", "job.revised") and job.is_live(deps.clock()):
                wanted += [(facts, language) for language in LANGUAGES if (facts := _facts(job, None))]
            elif event.kind == "job.submitted" and (facts := _facts(job, True)):
                wanted.append((facts, language_or_default(deps.moderators_language)))
    for facts, language in dict.fromkeys(wanted):
        if (facts, language) not in batch.voices:
            batch.voices[(facts, language)] = await _render(deps, facts, language)


async def _render(deps: DialogDeps, facts: PitchJob, language: str) -> Voice | None:
    assert deps.audio is not None
    try:
        return await deps.audio(facts, language)
    except Exception:  # a voice note is a bonus: the card goes out without it rather than not at all
        log.exception("no voice note for a %s job", facts.sector)
        return None


def _on(handler: Handler) -> Callable[[AsyncSession, Event, Batch], Awaitable[None]]:
    async def handle(session: AsyncSession, event: Event, batch: Batch) -> None:
        await handler(_Context(session, batch, event), dict(event.payload or {}))

    return handle


NOTIFIER = Consumer(CONSUMER, {kind: _on(handler) for kind, handler in HANDLERS.items()}, prepare=prepare_voices)


async def notify_once(deps: DialogDeps, batch: int = 100) -> int:
    """Handle up to ``batch`` due events of this consumer; returns how many were claimed (handled or failed)."""
    return await consume_once(deps.session_factory, NOTIFIER, Batch(deps), deps.clock(), batch)


async def run_notifier(
    deps: DialogDeps, stop: asyncio.Event, interval: float = 1.0, batch: int = 100, backoff: Backoff | None = None
) -> None:
    """Handle events until ``stop`` is set; sleeps ``interval`` seconds when there is nothing to do, and backs
    off (logging an outage once) while batches fail."""
    backoff = backoff or Backoff("notifier", logger=log)
    while not stop.is_set():
        try:
            handled = await notify_once(deps, batch)
        except Exception as error:
            await backoff.pause(error, stop)
            continue
        backoff.succeeded()
        if handled < batch:
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass
