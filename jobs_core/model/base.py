"""Declarative base, shared column types and the lifecycle-transition check."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

from jobs_core.errors import IllegalTransition

# Stable constraint names keep alembic autogenerate and `alembic check` deterministic.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: Mapping[Any, Any] = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (the only kind of datetime the domain stores)."""
    return datetime.now(UTC)


E = TypeVar("E", bound=enum.Enum)


def enum_type(enum_cls: type[enum.Enum]) -> Enum:
    """Store an enum as its value in a VARCHAR with a CHECK constraint (no PostgreSQL enum types to migrate)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=24,
        name=enum_cls.__name__.lower(),
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


def check_transition(subject: str, table: Mapping[E, frozenset[E]], current: E, target: E) -> None:
    """Raise IllegalTransition unless ``table`` allows ``current`` → ``target``."""
    if target not in table.get(current, frozenset()):
        raise IllegalTransition(subject, str(current.value), str(target.value))


class Channel(enum.StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    MESSENGER = "messenger"
    IVR = "ivr"


class Language(enum.StrEnum):
    KM = "km"
    EN = "en"
