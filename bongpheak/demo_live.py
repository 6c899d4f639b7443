"""The real bot beside the demo: with TELEGRAM_BOT_TOKEN set, `bongpheak demo` also runs `bongpheak serve
--polling` for that bot, on a database of its own.

A demo database never talks to real Telegram (docs/demo.md): made-up employers and workers must not reach a
real person. So the real bot gets an empty embedded PostgreSQL in ``DATA_DIR/live``, kept between runs, where
the operator can register as an employer, post, moderate and nominate for real — the same as
``DATA_DIR=var/live bongpheak serve --polling``, started and stopped with the demo. It is a child process in the
demo's process group: Ctrl-C in the terminal reaches both, and the demo stops it on its way out too. Its log
goes to ``DATA_DIR/live/bot.log`` so the demo's address stays readable. With DATABASE_URL set there is no
second database to make up, so only the line saying how to run it is printed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from bongpheak.settings import Settings

STOP_SECONDS = 30
# `bongpheak` with this interpreter, whether or not the console script is on PATH.
SERVE = (sys.executable, "-c", "from bongpheak.cli import main; raise SystemExit(main())")

NOT_STARTED = (
    "TELEGRAM_BOT_TOKEN is set, but a demo database never talks to real Telegram (docs/demo.md): the chats run "
    "in the browser. To run the real bot, give it a database of its own: DATA_DIR=var/live .venv/bin/bongpheak "
    "serve --polling"
)


def live_folder(settings: Settings) -> Path:
    return settings.data_dir / "live"


@contextlib.contextmanager
def real_bot(
    settings: Settings, port: int, announce: Callable[[str], object] = print
) -> Iterator[subprocess.Popen[bytes] | None]:
    """The real bot running by long polling on its own database while the block runs; None when there is no
    token or the database is not the embedded one (then one line says why and how)."""
    if not settings.telegram_bot_token:
        yield None
        return
    if settings.database_url:
        announce(NOT_STARTED)
        yield None
        return
    folder = live_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATA_DIR": str(folder)}
    env.pop("DATABASE_URL", None)
    log = (folder / "bot.log").open("ab")
    child = subprocess.Popen(
        [*SERVE, "serve", "--polling", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    announce(
        f"The real bot (TELEGRAM_BOT_TOKEN) runs too, by long polling, on a database of its own in {folder} "
        f"(never the demo's made-up people): talk to it in Telegram. Its log: {folder / 'bot.log'}"
    )
    try:
        yield child
    finally:
        _stop(child)
        log.close()


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGINT (what Ctrl-C sends it anyway), then SIGKILL if it has not stopped within STOP_SECONDS."""
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT)
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
