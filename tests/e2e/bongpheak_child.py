"""The ``bongpheak`` command as a test runs it in a process of its own: ``python -m tests.e2e.bongpheak_child serve``.

Two differences from the real command, both about the test, not the product:

* The daytime, whatever the hour. Alerts wait through Phnom Penh's night (21:00-07:00,
  ``conversations.notifier``); a test that waits for alerts must pass at any hour, so the night is lifted.
  (The dialer's calling hours are a setting: the test sets them.)
* It never outlives the test. The test starts it as the leader of a process group of its own (so that it can
  kill it with the ffmpeg it starts); if the test dies without killing it (SIGKILL, a crash), the process
  notices that its parent changed and kills its group.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import datetime


def daytime(now: datetime) -> datetime:
    return now


def die_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os.killpg(0, signal.SIGKILL)


def main() -> int:
    threading.Thread(target=die_with, args=(os.getppid(),), name="die-with-the-test", daemon=True).start()
    from bongpheak.cli import main as bongpheak
    from conversations import notifier

    # Fail loudly rather than run with the night still on: the test would only see alerts missing.
    if not callable(getattr(notifier, "outside_quiet_hours", None)):
        raise SystemExit("conversations.notifier.outside_quiet_hours is gone: teach this module the new place")
    notifier.outside_quiet_hours = daytime
    return bongpheak()


if __name__ == "__main__":
    sys.exit(main())
