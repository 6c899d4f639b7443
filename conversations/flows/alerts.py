"""Job alerts: a relative's subscriptions to new jobs by province and kind of work."""

from __future__ import annotations

from sqlalchemy import select

from conversations.pickers import (
    ANY,
    back_and_cancel,
    back_button,
    pick_province,
    pick_sector,
    province_from,
    sector_from,
    sector_label,
)
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.errors import InvalidField, NotFound
from jobs_core.model import Sector, Subscription
from jobs_core.numbers import parse_int
from jobs_core.services import people


async def alerts(t: Turn, args: list[str]) -> str:
    """Job alerts: the relative's subscriptions, each with a remove button, and "add"."""
    _ = t._
    t.started = True
    relative = await t.relative()
    subscriptions = list(
        (
            await t.session.scalars(
                select(Subscription).where(Subscription.relative_id == relative.id).order_by(Subscription.id)
            )
        ).all()
    )
    sectors = {s.code: sector_label(s, t.language) for s in await t.sectors()}
    buttons: list[tuple[Button, ...]] = []
    if subscriptions:
        lines = [_("Job alerts: {count}").format(count=len(subscriptions))]
        lines.append(_("You get a message when a new job is posted for:"))
        for s in subscriptions:
            where = geo.province(s.province_code).name(t.language) if s.province_code else _("Any province")
            what = sectors.get(s.sector_code, s.sector_code) if s.sector_code else _("Any kind of work")
            lines.append(f"🔔 {where} · {what}")
            buttons.append(
                (Button(_("🗑 Stop: {where} · {what}").format(where=where, what=what)[:60], f"unsub:{s.id}"),)
            )
        buttons.append((Button(_("🔕 Stop all alerts"), "unsub:all"),))
    else:
        lines = [_("You have no job alerts.")]
    buttons.append((Button(_("➕ New alert"), "alert"),))
    buttons.append((back_button(t, "rel"),))
    t.say("\n".join(lines), tuple(buttons))
    return IDLE


async def new_alert(t: Turn, args: list[str]) -> str:
    """Start a new alert: which province?"""
    t.started = True
    t.data = {}
    return await ask_alert_province(t)


async def ask_alert_province(t: Turn) -> str:
    """Alerts for which province?"""
    pick_province(t, t._("Alerts for jobs in which province?"), with_any=True, nav=(back_and_cancel(t, back=False),))
    return "alerts.province"


async def take_alert_province(t: Turn) -> str:
    """The province → which kind of work?"""
    t.data["province"] = province_from(t, allow_any=True)
    return await ask_alert_sector(t)


async def ask_alert_sector(t: Turn) -> str:
    """Alerts for which kind of work?"""
    await pick_sector(t, t._("Alerts for which kind of work?"), with_any=True, nav=(back_and_cancel(t),))
    return "alerts.sector"


async def take_alert_sector(t: Turn) -> str:
    """The sector → subscribed."""
    sector = await sector_from(t, allow_any=True)
    return await _subscribe(t, t.data.get("province"), sector)


async def subscribe_to(t: Turn, args: list[str]) -> str:
    """sub:<province|->:<sector|->: alerts for a search's filters in one press."""
    if len(args) != 2:
        raise BadInput(t._("This button is no longer valid."))
    province = None if args[0] == ANY else geo.province(args[0]).code
    sector = None if args[1] == ANY else args[1]
    if sector is not None and await t.session.get(Sector, sector) is None:
        raise InvalidField("sectors", "unknown_sector", sector)
    return await _subscribe(t, province, sector)


async def _subscribe(t: Turn, province: str | None, sector: str | None) -> str:
    relative = await t.relative()
    await people.subscribe(people.Subscribe(relative_id=relative.id, province=province, sector=sector), t.uow)
    t.say(
        t._("Done! We will send you new jobs like these."),
        ((Button(t._("🔔 Job alerts"), "alerts"),), (back_button(t, "rel"),)),
    )
    return IDLE


async def unsubscribe(t: Turn, args: list[str]) -> str:
    """unsub:<id>|all: remove one alert or all (only the relative's own)."""
    if len(args) != 1:
        raise BadInput(t._("This button is no longer valid."))
    relative = await t.relative()
    subscription_id = None if args[0] == "all" else parse_int("subscription", args[0], minimum=1, maximum=2**31 - 1)
    removed = await people.unsubscribe(t.uow, relative.id, subscription_id)
    if not removed:
        raise NotFound("subscription", args[0])
    t.say(t._("Alert removed.") if subscription_id else t._("All alerts removed."))
    return await alerts(t, [])


STEPS: dict[str, Step] = {
    "alerts.province": Step(ask_alert_province, take_alert_province),
    "alerts.sector": Step(ask_alert_sector, take_alert_sector),
}
# Each question's Back button asks the one before it again (what was answered stays until answered anew).
PREVIOUS = {"alerts.sector": "alerts.province"}
ACTIONS = {"alerts": alerts, "alert": new_alert, "sub": subscribe_to, "unsub": unsubscribe}
COMMANDS = {"alerts": "alerts"}
