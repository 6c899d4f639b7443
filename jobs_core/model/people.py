"""Relatives on chat channels, the offline workers they nominate, consent, and alert subscriptions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint

# PostgreSQL's ARRAY (not the generic one) has the containment operators matching uses.
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jobs_core.model.base import Base, Channel, Language, check_transition, enum_type, utcnow


class Relative(Base):
    """A person on a chat channel who helps family members find work."""

    __tablename__ = "relatives"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    external_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.KM)
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    # Set when the channel says we can no longer reach them (blocked the bot) or they sent /stop.
    unreachable: Mapped[bool] = mapped_column(default=False)
    stopped: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    nominations: Mapped[list[Nomination]] = relationship(back_populates="relative", lazy="raise")


class RelativeActivity(Base):
    """One row per relative per month they used the service: the monthly 'active relatives' figure."""

    __tablename__ = "relative_activity"

    relative_id: Mapped[int] = mapped_column(ForeignKey("relatives.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)


class Gender(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class Consent(enum.StrEnum):
    PENDING = "pending"
    CONSENTED = "consented"
    DECLINED = "declined"
    OPTED_OUT = "opted_out"


# opted_out has no way out: a worker who pressed 9 is never called again, whoever nominates them later.
CONSENT_STEPS = {
    Consent.PENDING: frozenset({Consent.CONSENTED, Consent.DECLINED, Consent.OPTED_OUT}),
    Consent.DECLINED: frozenset({Consent.CONSENTED, Consent.OPTED_OUT}),
    Consent.CONSENTED: frozenset({Consent.OPTED_OUT}),
}


class Worker(Base):
    """An offline worker reached by phone; one phone number is one worker."""

    __tablename__ = "workers"
    __table_args__ = (
        # Matching: a province's consented workers in id order, carrying the columns the filters read.
        Index(
            "ix_workers_matching",
            "province_code",
            "id",
            postgresql_include=["gender", "birth_year", "sectors"],
            postgresql_where="consent = 'consented'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    gender: Mapped[Gender] = mapped_column(enum_type(Gender))
    birth_year: Mapped[int]
    province_code: Mapped[str] = mapped_column(String(4))
    # Empty means "any sector".
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list)
    consent: Mapped[Consent] = mapped_column(enum_type(Consent), default=Consent.PENDING)
    consent_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    nominations: Mapped[list[Nomination]] = relationship(back_populates="worker", lazy="raise")

    def set_consent(self, target: Consent, at: datetime) -> None:
        check_transition("consent", CONSENT_STEPS, self.consent, target)
        self.consent = target
        self.consent_changed_at = at

    @property
    def may_be_called(self) -> bool:
        return self.consent in (Consent.PENDING, Consent.CONSENTED, Consent.DECLINED)


class Relationship(enum.StrEnum):
    PARENT = "parent"
    CHILD = "child"
    SPOUSE = "spouse"
    SIBLING = "sibling"
    RELATIVE = "relative"
    FRIEND = "friend"
    ACQUAINTANCE = "acquaintance"
    SELF = "self"  # a worker who asked on the website to be called (no relative: they gave their own number)

    @property
    def recommender(self) -> Relationship:
        """What the relative is to the worker: the stored relation is what the worker is to the relative, and
        the IVR tells the worker who recommended them (a relative's parent hears "your child recommended you")."""
        flipped = {Relationship.PARENT: Relationship.CHILD, Relationship.CHILD: Relationship.PARENT}
        return flipped.get(self, self)


class Nomination(Base):
    """A relative's link to a worker they recommended, with how they know each other."""

    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("worker_id", "relative_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    relative_id: Mapped[int] = mapped_column(ForeignKey("relatives.id", ondelete="CASCADE"), index=True)
    # How the relative knows the worker; the IVR says it ("your sibling recommended you").
    relation: Mapped[Relationship] = mapped_column(enum_type(Relationship))
    # What this relative entered. The Worker row keeps the first family's entry (matching reads it); a relative
    # is only ever shown their own, so one family never learns how another one knows the same phone.
    name: Mapped[str] = mapped_column(String(120), server_default="")
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender))
    birth_year: Mapped[int | None]
    province_code: Mapped[str | None] = mapped_column(String(4))
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The relative's own short recorded greeting (a normalised WAV file), played after the recommender clip so
    # the worker hears whom the call is from; None: the relation clip alone.
    greeting_clip: Mapped[str | None] = mapped_column(String(500))

    worker: Mapped[Worker] = relationship(back_populates="nominations", lazy="selectin")
    relative: Mapped[Relative] = relationship(back_populates="nominations", lazy="selectin")

    @property
    def known_consent(self) -> Consent | None:
        """The worker's consent as this relative may know it: a decision taken since they nominated, else None.

        A decision taken before (the answer to another family's nomination) is not this relative's to learn:
        telling them "already agreed" or "asked never to be called" would reveal that someone else knows the
        number. Needs ``worker`` loaded.
        """
        worker = self.worker
        changed = worker.consent_changed_at
        if worker.consent is Consent.PENDING or changed is None or changed < self.created_at:
            return None
        return worker.consent


class Subscription(Base):
    """A relative's job alerts for a province and/or sector (None means any)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("relative_id", "province_code", "sector_code", postgresql_nulls_not_distinct=True),
        Index("ix_subscriptions_match", "province_code", "sector_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relatives.id", ondelete="CASCADE"))
    province_code: Mapped[str | None] = mapped_column(String(4))
    sector_code: Mapped[str | None] = mapped_column(ForeignKey("sectors.code"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
