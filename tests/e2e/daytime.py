"""The ``bongpheak`` command as it runs in the daytime, whatever the hour: ``python tests/e2e/daytime.py serve …``.

Alerts wait through Phnom Penh's night (21:00-07:00, ``conversations.notifier``); a test that starts the real
command in processes of their own and waits for the alerts to arrive must pass at any hour, so this lifts the
night and changes nothing else. (The dialer's calling hours are a setting: such a test sets them.)
"""

from __future__ import annotations

import sys
from datetime import datetime


def daytime(now: datetime) -> datetime:
    return now


def main() -> int:
    from bongpheak.cli import main as bongpheak
    from conversations import notifier

    # Fail loudly rather than run with the night still on: the test would only see alerts missing.
    if not callable(getattr(notifier, "outside_quiet_hours", None)):
        raise SystemExit("conversations.notifier.outside_quiet_hours is gone: teach tests/e2e/daytime.py the new place")
    notifier.outside_quiet_hours = daytime
    return bongpheak()


if __name__ == "__main__":
    sys.exit(main())
