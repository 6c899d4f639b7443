"""Inline mode, long polling, and whatever a person may type (hypothesis)."""

from __future__ import annotations

import asyncio
import itertools

from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import TelegramDeps, run_polling
from bots.telegram.models import TelegramFile
from jobs_core.model import AuditEntry
from jobs_core.model.base import utcnow
from tests.builders import Builder
from tests.e2e.telegram.conftest import StandInDialog, count, handled_updates, post_update
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update, inline_query_update, message_update, user

Client = TestClient[web.Request, web.Application]
CHAT = 515151


async def _jobs(session_factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    builder = Builder(session_factory, utcnow())  # live now: inline mode looks at the real clock
    employer = await builder.employer()
    garment = await builder.published(employer, title="Sewing machine operators")
    site = await builder.published(employer, title="Construction helpers", sector="construction")
    return garment, site


async def test_inline_query_offers_live_jobs_cached_voice_first(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    garment, site = await _jobs(session_factory)
    async with session_factory() as session:
        session.add(TelegramFile(audio_id="a-garment", file_id="VOICE-GARMENT", file_unique_id="ug", job_id=garment))
        await session.commit()
    assert await post_update(client, inline_query_update(1, CHAT, "")) == 200
    [answer] = fake_api.calls_of("answerInlineQuery")
    results = answer.params["results"]
    by_id = {r["id"]: r for r in results}
    assert by_id[f"job:{garment}"]["type"] == "voice"
    assert by_id[f"job:{garment}"]["voice_file_id"] == "VOICE-GARMENT"
    assert by_id[f"job:{site}"]["type"] == "article"
    assert "Construction helpers" in by_id[f"job:{site}"]["input_message_content"]["message_text"]
    link = by_id[f"job:{site}"]["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link == f"https://t.me/BongPheakTestBot?start=job_{site}"


async def test_inline_query_text_filters_by_title_and_hash_picks_one_job(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    garment, site = await _jobs(session_factory)
    assert await post_update(client, inline_query_update(2, CHAT, "constru")) == 200
    assert await post_update(client, inline_query_update(3, CHAT, f"#{garment}")) == 200
    assert await post_update(client, inline_query_update(4, CHAT, "#999999")) == 200
    by_title, by_id, nothing = (c.params.get("results", []) for c in fake_api.calls_of("answerInlineQuery"))
    assert [r["id"] for r in by_title] == [f"job:{site}"]
    assert [r["id"] for r in by_id] == [f"job:{garment}"]
    assert nothing == []


async def test_a_chosen_inline_result_is_counted_as_a_share(
    client: Client, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    garment, _ = await _jobs(session_factory)
    chosen = {"result_id": f"job:{garment}", "from": user(CHAT), "query": ""}
    assert await post_update(client, {"update_id": 5, "chosen_inline_result": chosen}) == 200
    shared = (AuditEntry.action == "job.shared", AuditEntry.subject_id == garment)
    assert await count(session_factory, AuditEntry, *shared) == 1


async def test_polling_processes_updates_once_and_confirms_them(
    deps: TelegramDeps,
    fake_api: FakeTelegramAPI,
    dialog: StandInDialog,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    dialog.fail_next = 1  # the first try of the first update fails: polling retries it
    for i in range(3):
        fake_api.queue_update(message_update(900 + i, CHAT, f"p{i}"))
    stop = asyncio.Event()
    task = asyncio.create_task(run_polling(deps, stop, poll_timeout=1, retry_delay=0.05))
    # The replies leave from the sender (this process, elected), one a second in one chat.
    for _ in range(1000):
        if len(fake_api.sent(CHAT)) >= 3:
            break
        await asyncio.sleep(0.02)
    fake_api.queue_update(message_update(903, CHAT, "p3"))
    for _ in range(1000):
        if len(fake_api.sent(CHAT)) >= 4:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert fake_api.calls[0].method == "deleteWebhook"
    assert [c.params["text"] for c in fake_api.sent(CHAT)] == [f"You said: p{i}" for i in range(4)]
    assert await handled_updates(session_factory) == 4
    offsets = [int(c.params.get("offset") or 0) for c in fake_api.calls_of("getUpdates")]
    assert offsets == sorted(offsets) and offsets[-1] == 904
    assert fake_api.pending_updates == 0


_ids = itertools.count(50_000)
KHMER = st.sampled_from(["សួស្តី", "ការងារ", "ខ្ញុំចង់រកការងារ", "១២៣", "ភ្នំពេញ", "\u200b", "្"])
ANY_TEXT = st.one_of(
    st.text(min_size=1, max_size=300),
    st.lists(KHMER, min_size=1, max_size=40).map("".join),
    st.text(alphabet=st.sampled_from("😀🇰🇭👍🏽\u200d\U0010ffff"), min_size=1, max_size=50),
    st.integers(4000, 9000).map(lambda n: "ក" * n),
    st.sampled_from(["/start", "/", "/start@BongPheakTestBot x", " ", "\n\n", "/" + "a" * 64]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT)
@example(text="a\x00b")  # U+0000, which PostgreSQL cannot store, once found by a random run
async def test_any_text_gets_a_reply_never_a_500(client: Client, fake_api: FakeTelegramAPI, text: str) -> None:
    chat = 600_000 + next(_ids)
    assert await post_update(client, message_update(next(_ids), chat, text)) == 200
    sent = fake_api.sent(chat)
    assert sent and all(0 < len(c.params["text"]) <= 4096 for c in sent)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.text(min_size=1, max_size=64).filter(lambda d: len(d.encode()) <= 64))
async def test_any_callback_data_is_answered_never_a_500(client: Client, fake_api: FakeTelegramAPI, data: str) -> None:
    chat = 700_000 + next(_ids)
    update_id = next(_ids)
    assert await post_update(client, callback_update(update_id, chat, data)) == 200
    assert any(c.params.get("callback_query_id") == f"cbq{update_id}" for c in fake_api.calls_of("answerCallbackQuery"))
    assert fake_api.sent(chat)
