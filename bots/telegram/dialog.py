"""The conversations engine as the adapter's dialog: each turn runs in the update's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.deps import DialogHandler, InputPreparer
from conversations.replies import Incoming, Reply

if TYPE_CHECKING:
    from conversations.turn import DialogDeps


def conversation_dialog(dialog_deps: DialogDeps) -> DialogHandler:
    """``conversations.dialog.handle`` with its session factory swapped for the update's transaction."""
    from conversations.dialog import handle

    async def dialog(incoming: Incoming, session_factory: async_sessionmaker[AsyncSession]) -> Sequence[Reply]:
        return await handle(incoming, replace(dialog_deps, session_factory=session_factory))

    return dialog


def conversation_preparer(dialog_deps: DialogDeps) -> InputPreparer:
    """``conversations.dialog.prepare``: the input's slow part, before the update's transaction."""
    from conversations.dialog import prepare

    async def prepared(incoming: Incoming) -> Incoming:
        return await prepare(incoming, dialog_deps)

    return prepared
