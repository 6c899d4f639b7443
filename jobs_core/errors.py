"""Domain errors: every refusal says which rule or field, so adapters can answer in the person's language."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"


class InvalidField(DomainError):
    """A value a person typed cannot be accepted; ``field`` and ``code`` let adapters explain why."""

    code = "invalid_field"

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.message = message


class IllegalTransition(DomainError):
    """A lifecycle step that the current state does not allow."""

    code = "illegal_transition"

    def __init__(self, subject: str, current: str, target: str) -> None:
        super().__init__(f"{subject} cannot go from {current} to {target}")
        self.subject = subject
        self.current = current
        self.target = target


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to whoever asked)."""

    code = "not_found"

    def __init__(self, subject: str, key: object) -> None:
        super().__init__(f"{subject} {key!r} not found")
        self.subject = subject
        self.key = key


class NotAllowed(DomainError):
    """The actor may not do this (wrong employer, not a moderator, opted-out worker, …)."""

    code = "not_allowed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitReached(DomainError):
    """A safety cap was hit (nominations per day, calls per number, …)."""

    code = "limit_reached"

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what}: limit of {limit} reached")
        self.what = what
        self.limit = limit
