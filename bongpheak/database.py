"""The database this process uses: DATABASE_URL if set, else an embedded PostgreSQL in the data folder."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bongpheak.commands import CommandError
from jobs_core.backoff import Backoff, one_line

log = logging.getLogger(__name__)

# A connection attempt that hears nothing for this long fails (a dropped packet must not hang a loop for
# asyncpg's default minute); the loops then back off and try again.
CONNECT_TIMEOUT = 10.0

HOW_TO_GET_POSTGRES = (
    "no PostgreSQL available: set DATABASE_URL=postgresql://user@host/db, or install the pgserver wheel "
    "(Python 3.11/3.12: pip install pgserver), or put PostgreSQL's initdb and pg_ctl on PATH"
)


def async_url(url: str) -> str:
    """The SQLAlchemy URL for asyncpg, whatever PostgreSQL URL form the operator gave."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise CommandError(f"DATABASE_URL must be a PostgreSQL URL, got {parsed.drivername!r}")
    return parsed.render_as_string(hide_password=False)


# A pooled connection unused for longer than this is checked (pinged) before it is handed out.
PING_IF_IDLE = 5.0


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # Our queries are short; JIT compiling them costs more than running them (see docs/performance.md).
        connect_args={"server_settings": {"jit": "off"}, "timeout": CONNECT_TIMEOUT},
    )
    ping_idle_connections(engine)
    return engine


def ping_idle_connections(engine: AsyncEngine, idle: float = PING_IF_IDLE) -> None:
    """Check a pooled connection before use only when it sat unused for ``idle`` seconds.

    SQLAlchemy's ``pool_pre_ping`` checks every checkout, and asyncpg's ping is three round trips (BEGIN, a
    query, ROLLBACK): a third of the Telegram webhook's round trips to PostgreSQL, each costing CPU in this
    process. A connection that was in use a moment ago is very likely alive; one that sat idle may have been
    dropped (a database restart, an idle timeout in between), and is pinged and replaced as before. A
    connection that dies while busy fails its statement: SQLAlchemy sees the disconnect and replaces every
    pooled connection, so a restart costs at most the operations in flight (Telegram redelivers an update
    that got a 500)."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _returned(dbapi_connection: object, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: object) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle:
            return  # new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # a dead connection: the pool connects anew and drops the older ones
            raise exc.InvalidatePoolError() from error


def address(url: str) -> str:
    """Where the database is, for an error line: host:port (or the socket folder), never the password."""
    parsed = make_url(url)
    host = parsed.host or str(parsed.query.get("host") or "localhost")
    port = parsed.port or parsed.query.get("port") or 5432
    return f"{host}:{port}/{parsed.database or ''}"


async def wait_for_database(url: str, patience: float, stop: asyncio.Event | None = None) -> None:
    """Return once the database accepts a connection; CommandError in one line if it refuses us, or stays
    unreachable for ``patience`` seconds (or ``stop`` is set meanwhile)."""
    where = address(url)
    dsn = make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    backoff = Backoff(f"database at {where}", logger=log, cap=5.0)
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=max(1.0, min(CONNECT_TIMEOUT, deadline - loop.time())))
        except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidCatalogNameError) as error:
            # Wrong user, password or database name: waiting will not change the answer.
            raise CommandError(f"the database at {where} refused us: {error} (check DATABASE_URL)") from None
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            wait = backoff.delay_after_next()
            if loop.time() + wait > deadline or (stop is not None and stop.is_set()):
                raise CommandError(f"database unreachable at {where} ({one_line(error)}); check DATABASE_URL") from None
            await backoff.pause(error, stop)
            continue
        await connection.close()
        if backoff.failures:
            backoff.succeeded()
        return


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextmanager
def database_url(configured: str | None, data_dir: Path) -> Iterator[str]:
    """Yield a URL to a running PostgreSQL; an embedded one is started here and stopped on exit."""
    if configured:
        yield configured
        return
    pgdata = data_dir / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime folder, which warns where XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            pgserver = None  # type: ignore[assignment]  # no wheel for this Python: PostgreSQL from PATH
        if pgserver is not None:
            log.info("starting embedded PostgreSQL in %s", pgdata)
            server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    if pgserver is not None:
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
        return
    with _postgres_from_path(pgdata) as url:
        yield url


@contextmanager
def _postgres_from_path(pgdata: Path) -> Iterator[str]:
    """Run initdb/pg_ctl from PATH (where the pgserver wheel does not exist, e.g. Python 3.13)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise CommandError(HOW_TO_GET_POSTGRES)
    if os.name == "posix" and os.geteuid() == 0:
        raise CommandError("PostgreSQL refuses to run as root: run as a normal user or set DATABASE_URL")
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run(
            [initdb, "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sockdir = tempfile.mkdtemp(prefix="bongpheak-pg-")
    options = f"-p {port} -k {sockdir} -c listen_addresses=''"
    subprocess.run(
        [pg_ctl, "-D", str(pgdata), "-o", options, "-l", str(pgdata / "server.log"), "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://postgres@/postgres?host={sockdir}&port={port}"
    finally:
        subprocess.run([pg_ctl, "-D", str(pgdata), "-m", "fast", "-w", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(sockdir, ignore_errors=True)
