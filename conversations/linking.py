"""Linking a Telegram and a Messenger account into one relative, with a one-time code.

``/link`` in one chat shows a six-digit code, valid for 15 minutes; ``/link <code>`` typed in the other app
(another channel) links that account to the same relative: from then on both chats are that relative, so
they share family members (nominations), alerts (subscriptions) and applications. The notifier writes to
the relative's own chat (the one that showed the code). An account that already has its own family members
or alerts cannot be linked into another (nothing is merged): the person links the other way round.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select

from conversations.links import LinkCode, LinkedAccount
from conversations.state import IDLE
from conversations.turn import Turn
from jobs_core.model import Nomination, Subscription

CODE_LIFETIME = timedelta(minutes=15)


async def link(t: Turn, args: list[str]) -> str:
    """/link: show a code; /link <code>: link this account to the one that showed it."""
    _ = t._
    typed = (t.text or "").split(maxsplit=1)[1:] if t.text and t.text.startswith("/") else []
    code = "".join(ch for ch in (typed[0] if typed else "") if ch.isdigit())
    await t.session.execute(delete(LinkCode).where(LinkCode.expires_at < t.now))
    if not typed:
        relative = await t.relative()
        new = f"{secrets.randbelow(10**6):06d}"
        t.session.add(
            LinkCode(code=new, relative_id=relative.id, channel=t.incoming.channel, expires_at=t.now + CODE_LIFETIME)
        )
        t.say(
            _(
                "Your linking code is {code}. Within 15 minutes, send /link {code} in your other app "
                "(Telegram or Messenger) to use both as one account."
            ).format(code=new)
        )
        return IDLE
    found = await t.session.get(LinkCode, code) if code else None
    if found is None or found.expires_at < t.now:
        t.say(_("That code is not valid or has expired. Send /link in your other app to get a new one."))
        return IDLE
    if found.channel == t.incoming.channel:
        t.say(_("Please type this code in your other app (Telegram or Messenger), not in this one."))
        return IDLE
    own = await t.existing_relative()
    if own is not None and own.id != found.relative_id and await _has_family_or_alerts(t, own.id):
        t.say(
            _(
                "This account already has its own family members or alerts, so it cannot be linked into another. "
                "Send /link here and type the code in your other app instead."
            )
        )
        return IDLE
    await t.session.delete(found)
    t.session.add(
        LinkedAccount(channel=t.incoming.channel, external_id=t.incoming.user_id, relative_id=found.relative_id)
    )
    t.uow.audit(t.actor, "relative.linked", "relative", found.relative_id, channel=t.incoming.channel)
    t.forget_loaded()
    t.say(_("Linked: this chat and your other app now share your family members, alerts and applications."))
    return IDLE


async def _has_family_or_alerts(t: Turn, relative_id: int) -> bool:
    nominations = await t.session.scalar(
        select(func.count()).select_from(Nomination).where(Nomination.relative_id == relative_id)
    )
    alerts = await t.session.scalar(
        select(func.count()).select_from(Subscription).where(Subscription.relative_id == relative_id)
    )
    return bool(nominations or alerts)


ACTIONS = {"link": link}
COMMANDS = {"link": "link"}
