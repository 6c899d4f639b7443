"""What the Messenger adapter needs from the composition root, in one place."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger.graph import GraphClient
from bots.telegram.deps import DialogHandler, InputPreparer
from jobs_core.model.base import utcnow


@dataclass
class MessengerDeps:
    graph: GraphClient
    session_factory: async_sessionmaker[AsyncSession]
    dialog: DialogHandler
    app_secret: str  # signs every webhook POST (X-Hub-Signature-256)
    verify_token: str  # what the subscription handshake must present
    page_id: str  # for m.me/<page> share links
    download_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "bongpheak-messenger")
    prepare: InputPreparer | None = None
    clock: Callable[[], datetime] = utcnow  # the 24-hour window is counted on it
