"""An invoice's KHQR code reaches Messenger as an image (uploaded PNG), its words and buttons after it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.outbox import NORMAL, enqueue
from conversations.replies import Button, QrCode
from jobs_core.khqr import Merchant, khqr_for
from jobs_core.model import Currency
from jobs_core.pricing import Money
from tests.e2e.messenger.conftest import Clock, MessengerPage, message_event, page_body


async def test_a_khqr_code_is_sent_as_an_image_with_its_caption_and_check_button(
    page: MessengerPage, session_factory: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    assert await page.post(page_body(message_event("620", "hi"))) == 200  # inside the 24-hour window
    payload = khqr_for(Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh"), Money(Currency.USD, 500), "BP-1").payload
    reply = QrCode(payload, "KHQR code · 5.00 USD · BP-1", ((Button("🔄 Check payment", "pay:1:c"),),))
    async with session_factory() as session, session.begin():
        await enqueue(session, "messenger", "620", reply, "ev:9:messenger:620", priority=NORMAL, now=clock())
    await page.settle()
    sent = page.api.to("620")[-2:]
    assert sent[0].message["attachment"]["type"] == "image"
    assert page.api.uploads[-1].startswith(b"\x89PNG")
    assert "5.00 USD" in sent[1].text and ("🔄 Check payment", "pay:1:c") in sent[1].choices
