"""A job card's buttons: show the job, apply for a family member, ask for a call about it, or report it."""

from __future__ import annotations

from sqlalchemy import select

from conversations.cards import job_card
from conversations.flows.report import ask_report_reason
from conversations.pickers import back_button
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import Consent, Job, Nomination
from jobs_core.numbers import parse_int
from jobs_core.services import applications, people, reports


async def job_action(t: Turn, args: list[str]) -> str:
    """job:<id>[:call|apply|report]: what a job card's buttons do."""
    if not args:
        raise BadInput(t._("This button is no longer valid."))
    job_id = parse_int("job", args[0], minimum=1, maximum=2**31 - 1)
    verb = args[1] if len(args) > 1 else "show"
    if verb == "report":
        # Only a job shown to this person can be reported; any other id gets the answer a missing one gets.
        await reports.reportable_by(t.uow, job_id, (await t.relative()).id)
        t.started = True
        t.data = {"job_id": job_id}
        return await ask_report_reason(t)
    if verb not in ("show", "call", "apply"):
        raise BadInput(t._("This button is no longer valid."))
    job = await t.session.get(Job, job_id)
    if job is None or job.published_at is None:
        # A listing never published (a draft, one under review or rejected) answers as a missing id does, so
        # forged buttons cannot tell which job ids exist.
        raise NotFound("job", job_id)
    t.started = True
    if not job.is_live(t.now):
        raise NotAllowed("this job is no longer open")
    if verb == "show":
        t.add(await job_card(job, t.deps, t._, t.language, cached=True))
        return IDLE
    t.data = {"job_id": job_id, "purpose": verb}
    return await ask_member(t)


async def _members(t: Turn) -> list[people.FamilyMember]:
    relative = await t.relative()
    return await people.family_members(t.uow, relative.id)


async def ask_member(t: Turn) -> str:
    """Which family member is this for?"""
    _ = t._
    # Only an opt-out this relative was told about hides a member: any other would give another family away.
    members = [m for m in await _members(t) if m.consent is not Consent.OPTED_OUT]
    # Adding someone from here keeps the job: once added, they are applied for it (or called about it).
    add = Button(_("➕ Add a family member for job calls"), f"nom:{t.data['job_id']}:{t.data['purpose']}")
    if not members:
        t.say(_("First add a family member, then you can do this for them."), ((add,), (back_button(t),)))
        return IDLE
    question = (
        _("Which family member should we call about this job?")
        if t.data.get("purpose") == "call"
        else _("Which family member are you applying for?")
    )
    t.say(question, (*t.choices([(m.name, str(m.worker_id)) for m in members], per_row=1), (add,)))
    return "pick.member"


async def take_member(t: Turn) -> str:
    """The family member → apply for them (they confirm on the phone), or ask the dialer to call them."""
    _ = t._
    if t.choice is None:
        raise BadInput(_("Please choose a family member from the buttons."))
    worker_id = parse_int("worker", t.choice, minimum=1, maximum=2**31 - 1)
    relative = await t.relative()
    nomination = await t.session.scalar(
        select(Nomination).where(Nomination.relative_id == relative.id, Nomination.worker_id == worker_id)
    )
    if nomination is None:
        raise NotFound("worker", worker_id)
    if nomination.known_consent is Consent.OPTED_OUT:
        raise NotAllowed("this person asked not to be contacted")
    return await _for_job(t, nomination, int(t.data["job_id"]), str(t.data.get("purpose")))


async def _for_job(t: Turn, nomination: Nomination, job_id: int, purpose: str) -> str:
    """Apply for the family member (they confirm on the phone), or ask the dialer to call them about the job."""
    _ = t._
    relative = await t.relative()
    worker_id, name = nomination.worker_id, nomination.name
    if purpose == "apply":
        result = await applications.apply_for_family(
            applications.ApplyForFamily(
                job_id=job_id, worker_id=worker_id, relative_id=relative.id, channel=t.incoming.channel
            ),
            t.uow,
        )
        t.say(
            _("You already applied for {name} for this job.").format(name=name)
            if result.already_yours
            else _(
                "Done! We will call {name} to confirm. The employer gets {name}'s number only after {name} says yes."
            ).format(name=name),
            ((back_button(t, "rel"),),),
        )
        return IDLE
    job = await t.session.get(Job, job_id)
    if job is None or not job.is_live(t.now):
        raise NotAllowed("this job is no longer open")
    # The dialer consumes this event: a consent call first if the worker has not agreed yet, then the pitch;
    # never a call to a worker who asked never to be called. The reply is the same in every case.
    applications.request_call(
        t.uow, job_id=job_id, worker_id=worker_id, nomination_id=nomination.id, relative_id=relative.id
    )
    t.uow.audit(t.actor, "job.call_requested", "job", job_id, worker_id=worker_id)
    if nomination.known_consent is Consent.CONSENTED:
        t.say(_("We will call {name} about this job soon.").format(name=name), ((back_button(t, "rel"),),))
    else:
        t.say(
            _(
                "We will call {name} about this job. If they have not agreed to job calls yet, we ask them first."
            ).format(name=name),
            ((back_button(t, "rel"),),),
        )
    return IDLE


STEPS: dict[str, Step] = {"pick.member": Step(ask_member, take_member)}
ACTIONS = {"job": job_action}
