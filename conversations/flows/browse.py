"""Relatives: their menu, and browsing the open jobs by province and kind of work, a page at a time."""

from __future__ import annotations

from dataclasses import replace

from conversations.cards import job_card
from conversations.pickers import (
    ANY,
    back_and_cancel,
    back_button,
    pick_province,
    pick_sector,
    province_from,
    sector_from,
)
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.numbers import parse_int
from jobs_core.services import jobs


async def relative_menu(t: Turn, args: list[str]) -> str:
    """What a relative can do."""
    _ = t._
    t.started = True
    await t.relative()
    t.say(
        _("How can we help your family?"),
        (
            (Button(_("🔎 Browse jobs"), "browse"),),
            (Button(_("➕ Add a family member for job calls"), "nom"),),
            (Button(_("👪 My family members"), "family"),),
            (Button(_("🔔 Job alerts"), "alerts"),),
            (back_button(t),),
        ),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ browse


async def browse(t: Turn, args: list[str]) -> str:
    """Start browsing: which province?"""
    t.data = {}
    return await ask_browse_province(t)


async def ask_browse_province(t: Turn) -> str:
    """Which province?"""
    pick_province(t, t._("Where should the job be?"), with_any=True, nav=(back_and_cancel(t, back=False),))
    return "browse.province"


async def take_browse_province(t: Turn) -> str:
    """The province (or any) → which kind of work?"""
    t.data["province"] = province_from(t, allow_any=True)
    return await ask_browse_sector(t)


async def ask_browse_sector(t: Turn) -> str:
    """Which kind of work?"""
    await pick_sector(t, t._("What kind of work?"), with_any=True, nav=(back_and_cancel(t),))
    return "browse.sector"


async def take_browse_sector(t: Turn) -> str:
    """The sector (or any) → the first page of jobs."""
    sector = await sector_from(t, allow_any=True)
    return await show_jobs(t, t.data.get("province"), sector, 0)


async def page(t: Turn, args: list[str]) -> str:
    """jobs:<province|->:<sector|->:<offset>: another page of a search (works from any old message)."""
    if len(args) != 3:
        raise BadInput(t._("This button is no longer valid."))
    province = None if args[0] == ANY else geo.province(args[0]).code
    sector = None if args[1] == ANY else args[1]
    offset = parse_int("offset", args[2], minimum=0, maximum=100_000)
    return await show_jobs(t, province, sector, offset)


async def show_jobs(t: Turn, province: str | None, sector: str | None, offset: int) -> str:
    """Up to a page of job cards, newest first, and a "more" button when there are more."""
    _ = t._
    t.started = True
    size = t.deps.page_size
    found, total = await jobs.live_jobs_page(
        t.reads, province_code=province, sector_code=sector, offset=offset, limit=size + 1
    )
    filters = f"{province or ANY}:{sector or ANY}"
    if not found:
        t.say(
            _("No more jobs here right now.") if offset else _("There are no jobs here right now."),
            (
                (Button(_("🔔 Tell me when a job is posted"), f"sub:{filters}"),),
                (Button(_("🔎 Search again"), "browse"), back_button(t)),
            ),
        )
        return IDLE
    for job in found[:size]:
        card = await job_card(job, t.deps, _, t.language, cached=True)
        if job.is_featured(t.now):  # paid featured weeks: first in the list, and said so
            card = replace(card, text="⭐ " + _("Featured") + "\n" + card.text)
        t.add(card)
    buttons: list[tuple[Button, ...]] = []
    if len(found) > size:
        buttons.append((Button(_("More jobs ▶️"), f"jobs:{filters}:{offset + size}"),))
    buttons.append((Button(_("🔔 Alerts for these jobs"), f"sub:{filters}"),))
    buttons.append((Button(_("🔎 Search again"), "browse"), back_button(t)))
    shown = _("Jobs {first}–{last} of {total}").format(
        first=offset + 1, last=offset + min(size, len(found)), total=max(total, offset + len(found))
    )
    t.say(shown, tuple(buttons))
    return IDLE


STEPS: dict[str, Step] = {
    "browse.province": Step(ask_browse_province, take_browse_province),
    "browse.sector": Step(ask_browse_sector, take_browse_sector),
}
# Each question's Back button asks the one before it again (what was answered stays until answered anew).
PREVIOUS = {"browse.sector": "browse.province"}
ACTIONS = {"rel": relative_menu, "browse": browse, "jobs": page}
COMMANDS = {"jobs": "browse"}
