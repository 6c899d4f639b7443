"""Unit of work: one database transaction that rolls back unless the service commits it."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction, async_sessionmaker

from jobs_core.model import AuditEntry, Event
from jobs_core.model.base import utcnow


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``; leaving without commit rolls everything back.

    Re-entrant: a query helper that opens ``async with uow`` inside a caller's block joins the caller's
    transaction instead of starting (and then closing) a session of its own.
    """

    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], now: datetime | None = None) -> None:
        self._session_factory = session_factory
        self._fixed_now = now
        self._depth = 0

    def now(self) -> datetime:
        """The service's clock: fixed when a test or a replay gives one, else the real UTC time."""
        return self._fixed_now or utcnow()

    async def __aenter__(self) -> UnitOfWork:
        if self._depth == 0:
            self.session = self._session_factory()
        self._depth += 1
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        if self._depth:
            return
        try:
            # Detach first: rollback would expire what a read-only block loaded and hands back to its caller.
            self.session.expunge_all()
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    def audit(self, actor: str, action: str, subject_type: str, subject_id: int | None, **detail: Any) -> None:
        """Record who did what, in the same transaction as the change itself."""
        self.session.add(
            AuditEntry(
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                detail=detail,
                at=self.now(),
            )
        )

    def emit(self, kind: str, **payload: Any) -> None:
        """Queue a domain event; it exists only if the transaction commits."""
        self.session.add(Event(kind=kind, payload=payload, created_at=self.now()))


class SavepointUnitOfWork(UnitOfWork):
    """A unit of work inside a transaction its caller holds: a service's commit releases a savepoint.

    The caller keeps its row locks while the service runs, and the service's change is committed together
    with the caller's own writes, or neither is (a webhook that fails halfway leaves nothing to replay twice).
    """

    def __init__(
        self,
        session: AsyncSession,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        now: datetime | None = None,
    ) -> None:
        # Its services run in the caller's session: it never opens one of its own, which would wait for the
        # rows the caller holds. (``session_factory`` is not needed; callers that pass one still may.)
        self._fixed_now = now
        self._depth = 0
        self.session = session
        self._savepoints: list[AsyncSessionTransaction] = []

    async def __aenter__(self) -> SavepointUnitOfWork:
        self._savepoints.append(await self.session.begin_nested())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        savepoint = self._savepoints.pop()
        if savepoint.is_active:
            await savepoint.rollback()

    async def commit(self) -> None:
        await self._savepoints[-1].commit()
