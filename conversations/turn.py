"""One turn of a conversation: what came in, the person's state, and the replies being built.

Steps receive a :class:`Turn`; they read ``t.text`` / ``t.choice`` / ``t.contact`` / ``t.voice``, keep what
they collected in ``t.data``, say things with ``t.say(...)`` and return the name of the next step. A step
that cannot accept the input raises :class:`BadInput` (or lets a ``DomainError`` through): the engine then
answers with the message, asks the same question again and leaves the stored state as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.i18n import Gettext, gettext_for
from conversations.links import LinkedAccount
from conversations.replies import Button, Incoming, Keyboard, Reply, Text, Voice
from jobs_core.model import Channel, Employer, Relative, Sector
from jobs_core.model.base import utcnow
from jobs_core.services import employers as employer_service
from jobs_core.services import people
from jobs_core.services.billing import Billing
from jobs_core.uow import SavepointUnitOfWork, UnitOfWork
from media.composer import PitchJob

# A job's facts and a language → its voice note (None when no audio can be made); bots pass the renderer.
AudioProvider = Callable[[PitchJob, str], Awaitable[Voice | None]]
# An employer's upload → a normalised clip file; raises media.employer_clip.EmployerClipRejected.
ClipNormaliser = Callable[[Path], Awaitable[Path]]

DEFAULT_NOMINATIONS_PER_DAY = people.DEFAULT_NOMINATIONS_PER_DAY


@dataclass(frozen=True)
class DialogDeps:
    """Everything the flows need from outside, given once by the composition root."""

    session_factory: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = utcnow
    moderator_ids: frozenset[str] = frozenset()  # chat user ids (as strings) of the moderators
    moderators_chat_id: str | None = None  # the moderators' group chat, where review cards are posted
    # Off: only moderator_ids decide, even in the moderators' group. On: every member of that group decides.
    moderators_all_members: bool = False
    moderators_channel: str = "telegram"
    moderators_language: str = "km"
    nominations_per_day: int = DEFAULT_NOMINATIONS_PER_DAY
    # Makes a job's voice note, rendering it if need be (ffmpeg): only called with no transaction open.
    audio: AudioProvider | None = None
    # The voice note if it is already rendered, else None (and a render is asked for): what a dialog turn uses,
    # since it runs inside the update's transaction. None: ``audio`` never renders (tests' fakes) and serves both.
    cached_audio: AudioProvider | None = None
    clip_normaliser: ClipNormaliser | None = None
    # A relative's greeting → a normalised clip of at most five seconds; None: clip_normaliser is used.
    greeting_normaliser: ClipNormaliser | None = None
    page_size: int = 3
    # Payments on (PAYMENTS): prices and the merchant; None: nothing is ever charged.
    billing: Billing | None = None


class BadInput(Exception):
    """The input does not fit the current question; ``message`` is already translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A step may return this instead of a step name: ask the open question again (after a language switch).
ASK_AGAIN = "<ask again>"


class KeepState(Exception):
    """Raised by a step to leave the stored state exactly as it was; the replies said so far are sent."""


@dataclass
class Turn:
    incoming: Incoming
    deps: DialogDeps
    # Inside the turn's transaction, which holds the lock on the conversation state row: the domain change
    # and the new state are committed together, or neither is.
    uow: SavepointUnitOfWork
    step: str
    data: dict[str, Any]
    language: str
    version: int
    started: bool
    language_known: bool = True
    chosen_language: str | None = None  # set when the person picks a language this turn
    replies: list[Reply] = field(default_factory=list)
    choice: str | None = None  # the value of a pressed step button
    _: Gettext = field(init=False)
    _relative: Relative | None = field(default=None, init=False)
    # Step buttons carry the version the state will have after this turn.
    button_version: int = field(init=False)

    def __post_init__(self) -> None:
        self._ = gettext_for(self.language)
        self.button_version = self.version + 1

    # ------------------------------------------------------------------ facts

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    @property
    def now(self) -> datetime:
        return self.uow.now()

    @property
    def reads(self) -> UnitOfWork:
        """The turn's transaction for a service that only reads (``jobs.live_jobs``): no savepoint around it,
        which would cost two round trips and roll back nothing."""
        return _Reads(self.uow.session, self.deps.session_factory, self.now)

    @property
    def text(self) -> str | None:
        return self.incoming.text.strip() if self.incoming.text and self.incoming.text.strip() else None

    @property
    def channel(self) -> Channel:
        return Channel(self.incoming.channel)

    @property
    def actor(self) -> str:
        return f"{self.incoming.channel}:{self.incoming.user_id}"

    @property
    def is_moderator(self) -> bool:
        deps, incoming = self.deps, self.incoming
        if incoming.user_id in deps.moderator_ids:
            return True
        return bool(
            deps.moderators_all_members
            and incoming.in_group
            and deps.moderators_chat_id
            and incoming.chat_id == deps.moderators_chat_id
        )

    def set_language(self, language: str) -> None:
        self.language = language
        self._ = gettext_for(language)

    async def relative(self) -> Relative:
        """The relative behind this chat account (created on first use)."""
        if self._relative is None:
            self._relative = await self._linked_relative()
        if self._relative is None:
            self._relative = await people.relative_for(
                self.uow,
                self.incoming.channel,
                self.incoming.user_id,
                language=self.language,
                name=self.incoming.user_name[:120],
            )
        return self._relative

    async def _linked_relative(self) -> Relative | None:
        """The relative of another chat account this one was linked to (``/link``), if any."""
        relative_id = await self.session.scalar(
            select(LinkedAccount.relative_id).where(
                LinkedAccount.channel == self.incoming.channel, LinkedAccount.external_id == self.incoming.user_id
            )
        )
        return None if relative_id is None else await self.session.get(Relative, relative_id)

    async def existing_relative(self) -> Relative | None:
        linked = await self._linked_relative()
        if linked is not None:
            return linked
        return await self.session.scalar(
            select(Relative).where(Relative.channel == self.channel, Relative.external_id == self.incoming.user_id)
        )

    async def employer(self) -> Employer | None:
        return await employer_service.employer_for_identity(self.uow, self.incoming.channel, self.incoming.user_id)

    async def sectors(self) -> list[Sector]:
        return list((await self.session.scalars(select(Sector).order_by(Sector.position, Sector.code))).all())

    def forget_loaded(self) -> None:
        """Drop objects loaded this turn (after a rolled-back savepoint they may be stale)."""
        self._relative = None

    # ------------------------------------------------------------------ saying things

    def say(self, text: str, buttons: Keyboard = ()) -> None:
        self.replies.append(Text(text, buttons))

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)

    def step_button(self, label: str, value: str) -> Button:
        """A button answering the current question; stale once the conversation moves on."""
        return Button(label, f"@{self.button_version}:{value}")

    def choices(self, options: Iterable[tuple[str, str]], per_row: int = 2) -> Keyboard:
        """Step buttons for (label, value) options, ``per_row`` to a row."""
        buttons = [self.step_button(label, value) for label, value in options]
        return rows(buttons, per_row)

    def require_text(self, message: str | None = None) -> str:
        """The typed text, or BadInput when something else came (a photo, a button of another question)."""
        if self.text is None:
            raise BadInput(message or self._("Please type your answer as a message."))
        return self.text


class _Reads(UnitOfWork):
    """A unit of work over the turn's session that neither opens, commits nor rolls back anything."""

    def __init__(self, session: AsyncSession, session_factory: async_sessionmaker[AsyncSession], now: datetime):
        super().__init__(session_factory, now=now)
        self.session = session

    async def __aenter__(self) -> _Reads:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        raise RuntimeError("a read-only unit of work cannot commit: pass the turn's uow to a service that writes")


def rows(buttons: Sequence[Button], per_row: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


Ask = Callable[[Turn], Awaitable[str]]
Take = Callable[[Turn], Awaitable[str]]
Action = Callable[[Turn, list[str]], Awaitable[str]]


class Step(NamedTuple):
    """A question: ``ask`` says it and returns its state; ``take`` handles the answer, returns the next."""

    ask: Ask
    take: Take
