"""A relative's family members, a page at a time: what was entered, whether they agreed to calls, their
applications.
"""

from __future__ import annotations

from sqlalchemy import func, select

from conversations.i18n import N_
from conversations.pickers import back_button
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Turn
from jobs_core.clock import local
from jobs_core.model import Nomination
from jobs_core.numbers import parse_int
from jobs_core.phones import display_phone
from jobs_core.services import people

FAMILY_PAGE = 5  # family members on one page of "My family members"


FAMILY_CONSENT = {
    None: N_("added: nobody gets job calls without saying yes on the phone"),
    "consented": N_("agreed to job calls"),
    "declined": N_("did not agree to job calls"),
    "opted_out": N_("asked never to be called"),
}
OWN_APPLICATION = {
    "awaiting_worker": N_("waiting for them to confirm on the phone"),
    "new": N_("sent to the employer"),
    "seen": N_("sent to the employer"),
    "contacted": N_("the employer contacted them"),
    "hired": N_("hired 🎉"),
    "not_hired": N_("not chosen"),
    "withdrawn": N_("they did not confirm"),
    "expired": N_("the job closed before they confirmed"),
}


async def family(t: Turn, args: list[str]) -> str:
    """family[:<offset>]: a page of family members, with what this relative entered and their own outcomes."""
    _ = t._
    t.started = True
    offset = parse_int("offset", args[0], minimum=0, maximum=100_000) if args else 0
    relative = await t.relative()
    total = int(
        await t.session.scalar(
            select(func.count()).select_from(Nomination).where(Nomination.relative_id == relative.id)
        )
        or 0
    )
    members = await people.family_members(t.uow, relative.id, offset=offset, limit=FAMILY_PAGE)
    if not members and offset:
        raise BadInput(_("This button is no longer valid."))
    if not members:
        t.say(
            _("You have not added any family members yet."),
            ((Button(_("➕ Add a family member for job calls"), "nom"),), (back_button(t, "rel"),)),
        )
        return IDLE
    lines = [
        _("Your family members: {first}–{last} of {total}").format(
            first=offset + 1, last=offset + len(members), total=total
        )
    ]
    for m in members:
        lines.append(f"\n👤 {m.name} · {display_phone(m.phone)}")
        lines.append("   " + _(FAMILY_CONSENT[m.consent.value if m.consent else None]))
        if m.missed_call_at is not None:
            lines.append(
                "   " + _("We could not reach them by phone ({date}).").format(date=local(m.missed_call_at).date())
            )
        elif m.call_planned:
            lines.append("   " + _("A call to ask them is planned."))
        for own in m.applications:
            lines.append(
                "   "
                + _("Application for {title}: {status}").format(
                    title=own.job_title, status=_(OWN_APPLICATION[own.status.value])
                )
            )
    buttons: list[tuple[Button, ...]] = []
    if offset + len(members) < total:
        buttons.append((Button(_("More ▶️"), f"family:{offset + FAMILY_PAGE}"),))
    buttons.append((Button(_("➕ Add a family member for job calls"), "nom"),))
    buttons.append((back_button(t, "rel"),))
    t.say("\n".join(lines), tuple(buttons))
    return IDLE


ACTIONS = {"family": family}
COMMANDS = {"family": "family"}
