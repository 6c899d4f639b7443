"""What every background loop does when its work fails: wait longer each time, and say so once.

A loop that polls the database every half second would, during an outage, retry (and log a traceback) twice a
second per worker. A ``Backoff`` shared by a loop's workers makes the retries exponential and capped, logs the
first failure of an outage, then at most one line per ``report_every`` seconds while it lasts, and one line
when the work succeeds again. The same object answers the health check ("ok" or what is failing since when).

    backoff = Backoff("notifier")
    while not stop.is_set():
        try:
            await work()
        except Exception as error:
            await backoff.pause(error, stop)
            continue
        backoff.succeeded()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy import exc as sa_exc

_log = logging.getLogger(__name__)

# asyncpg's names for a connection that is gone or refused (jobs_core does not import the driver itself).
_DRIVER_OUTAGES = frozenset(
    {
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
        "InterfaceError",
    }
)


def is_outage(error: BaseException) -> bool:
    """Is this a dependency that cannot be reached (its traceback tells nothing), rather than a bug?"""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if getattr(current, "connection_invalidated", False):
            return True
        if type(current).__module__.startswith("asyncpg") and type(current).__name__ in _DRIVER_OUTAGES:
            return True
        current = current.__cause__ or current.__context__
    return False


def exponential(failures: int, first: float, cap: float) -> float:
    """The wait after ``failures`` consecutive failures: 0, then first, 2×first, 4×first … up to cap."""
    if failures <= 0:
        return 0.0
    return float(min(cap, first * 2 ** min(failures - 1, 30)))


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, short enough for one log line."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:300]


class Backoff:
    """Exponential, capped waits after consecutive failures of one loop; its outages logged once."""

    def __init__(
        self,
        name: str,
        *,
        first: float = 0.5,
        cap: float = 30.0,
        report_every: float = 60.0,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.first = first
        self.cap = cap
        self.report_every = report_every
        self.log = logger or _log
        self.clock = clock
        self.failures = 0
        self.failing_since: float | None = None
        self.last_error = ""
        self._last_report = 0.0

    @property
    def healthy(self) -> bool:
        return self.failures == 0

    def status(self) -> str:
        """ "ok", or what has been failing for how long (the health check shows it)."""
        if self.healthy or self.failing_since is None:
            return "ok"
        return f"failing for {self.clock() - self.failing_since:.0f} s: {self.last_error}"

    def failed(self, error: BaseException) -> float:
        """Record a failure; returns how many seconds to wait before trying again."""
        now = self.clock()
        self.failures += 1
        self.last_error = one_line(error)
        if self.failing_since is None:
            self.failing_since = now
            self._last_report = now
            # A bug deserves its traceback (once per outage); an unreachable dependency only its one line.
            self.log.error("%s failing: %s", self.name, self.last_error, exc_info=not is_outage(error))
        elif now - self._last_report >= self.report_every:
            self._last_report = now
            self.log.error(
                "%s still failing (%d tries in %.0f s): %s",
                self.name,
                self.failures,
                now - self.failing_since,
                self.last_error,
            )
        return self.delay()

    def delay(self) -> float:
        """The wait after the current run of failures: first, 2×first, 4×first … up to cap."""
        return self._delay(self.failures)

    def delay_after_next(self) -> float:
        """The wait one more failure would bring (to decide whether to try again at all)."""
        return self._delay(self.failures + 1)

    def _delay(self, failures: int) -> float:
        return exponential(failures, self.first, self.cap)

    def succeeded(self) -> None:
        """The work went through: if it had been failing, say once that it recovered."""
        if self.failing_since is not None:
            self.log.warning(
                "%s recovered after %d failed tries in %.0f s",
                self.name,
                self.failures,
                self.clock() - self.failing_since,
            )
        self.failures = 0
        self.failing_since = None
        self.last_error = ""

    async def pause(self, error: BaseException, stop: asyncio.Event | None = None) -> None:
        """Record ``error`` and wait the back-off delay (less if ``stop`` is set meanwhile)."""
        seconds = self.failed(error)
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
