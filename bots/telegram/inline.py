"""Inline mode: a relative types the bot's @username in any chat and drops a job's voice note there."""

from __future__ import annotations

import re

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultCachedVoice,
    InlineQueryResultUnion,
    InputTextMessageContent,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.deps import TelegramDeps
from bots.telegram.models import TelegramFile
from conversations.cards import shared_job_text
from conversations.i18n import gettext_for, language_or_default
from conversations.state import ConversationState
from jobs_core import geo
from jobs_core.model import Job, Relative, Sector
from jobs_core.services.jobs import live_jobs
from jobs_core.uow import UnitOfWork

MAX_RESULTS = 20
SCAN = 200  # live jobs looked at when a query filters by title
_ONE_JOB = re.compile(r"^#?\s*(\d{1,9})$")
_RESULT_ID = re.compile(r"^job:(\d{1,9})$")
_INVISIBLE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
# Words in front of a Khmer province name ("the capital", "province") that people leave out or put in.
_KHMER_PREFIXES = ("រាជធានី", "ខេត្ត")


def result_id(job_id: int) -> str:
    """The id of a job's inline result; Telegram sends it back in chosen_inline_result when it is shared."""
    return f"job:{job_id}"


def job_of_result(value: str) -> int | None:
    """The job id inside one of our inline result ids, or None when it is not one."""
    match = _RESULT_ID.match(value)
    return int(match.group(1)) if match else None


def job_summary(job: Job, language: str = "km") -> str:
    """The few lines a shared job shows in someone else's chat, in the sharer's language."""
    try:
        return shared_job_text(job, gettext_for(language), language)
    except Exception:  # an unknown province code should not hide the job
        return job.title


def _squeezed(text: str) -> str:
    """Case, spaces and zero-width characters left out: how names are compared."""
    return _INVISIBLE.sub("", text).casefold()


def _province_names(place: geo.Place) -> set[str]:
    names = {_squeezed(place.name_en), _squeezed(place.name_km)}
    for prefix in _KHMER_PREFIXES:
        if place.name_km.startswith(prefix):
            names.add(_squeezed(place.name_km.removeprefix(prefix)))
    return {n for n in names if len(n) > 2}


def _sector_names(sector: Sector) -> set[str]:
    """A sector's names and the words in them ("garment" of "Garment / manufacturing", "កាត់ដេរ" of its Khmer)."""
    words = [w for w in re.split(r"[\s/]+", f"{sector.name_en} {sector.name_km}") if w.casefold() != "and"]
    return {n for n in (_squeezed(w) for w in [sector.name_en, sector.name_km, *words]) if len(n) > 2}


def search_filters(query: str, sectors: list[Sector]) -> tuple[str | None, str | None]:
    """The province and sector an inline query names, in Khmer or English (None where it names none)."""
    wanted = _squeezed(query)
    if not wanted:
        return None, None
    province = next((p.code for p in geo.provinces() if any(n in wanted for n in _province_names(p))), None)
    typed_part = len(wanted) > 2  # "constru" names construction; "co" names nothing
    sector = next(
        (s.code for s in sectors if any(n in wanted or (typed_part and wanted in n) for n in _sector_names(s))), None
    )
    return province, sector


async def matching_jobs(uow: UnitOfWork, query: str) -> list[Job]:
    """Live jobs for an inline query: ``#12`` is that job; a province or kind of work named in Khmer or English
    ("Phnom Penh", "ភ្នំពេញ", "garment", "កាត់ដេរ") filters by them; other text filters titles; empty is the
    newest."""
    query = query.strip()
    one = _ONE_JOB.match(query)
    if one:
        job = await uow.session.get(Job, int(one.group(1)))
        return [job] if job is not None and job.is_live(uow.now()) else []
    if not _squeezed(query):
        return await live_jobs(uow, limit=MAX_RESULTS)
    sectors = list((await uow.session.scalars(select(Sector))).all())
    province, sector = search_filters(query, sectors)
    found = (
        await live_jobs(uow, province_code=province, sector_code=sector, limit=MAX_RESULTS)
        if province or sector
        else []
    )
    # Titles too: a word that happens to name a place or a kind of work may be part of a job's title.
    needle = _squeezed(query)
    by_title = [j for j in await live_jobs(uow, limit=SCAN) if needle in _squeezed(j.title) and j not in found]
    return (found + by_title)[:MAX_RESULTS]


async def sharer_language(session: AsyncSession, user_id: int, hint: str | None) -> str:
    """The language the sharer chose with the bot (else their app's, else Khmer): a shared card speaks it."""
    chosen = await session.scalar(
        select(ConversationState.language)
        .where(
            ConversationState.channel == "telegram",
            ConversationState.user_id == str(user_id),
            ConversationState.language.is_not(None),
        )
        .order_by(ConversationState.updated_at.desc())
        .limit(1)
    )
    if chosen is None:
        relative = await session.scalar(
            select(Relative.language).where(Relative.channel == "telegram", Relative.external_id == str(user_id))
        )
        chosen = relative.value if relative is not None else None
    return language_or_default(chosen or hint)


async def inline_results(
    session_factory: async_sessionmaker[AsyncSession],
    query: str,
    bot_username: str | None,
    sharer: int | None = None,
    language_hint: str | None = None,
) -> list[InlineQueryResultUnion]:
    """Published jobs for an inline query: their voice note by file_id when one was uploaded, else a text
    card, in the sharer's language. Reads only; the caller answers Telegram once its transaction is over."""
    results: list[InlineQueryResultUnion] = []
    # Built inside the unit of work: leaving it rolls back, which expires the loaded jobs.
    async with UnitOfWork(session_factory) as uow:
        language = (
            await sharer_language(uow.session, sharer, language_hint)
            if sharer is not None
            else language_or_default(language_hint)
        )
        jobs = await matching_jobs(uow, query)
        voices: dict[int, str] = {}
        if jobs:
            rows = await uow.session.execute(
                select(TelegramFile.job_id, TelegramFile.file_id)
                .where(TelegramFile.job_id.in_([j.id for j in jobs]))
                .order_by(TelegramFile.created_at)
            )
            voices = {job_id: file_id for job_id, file_id in rows if job_id is not None}
        for job in jobs:
            results.append(_result(job, voices.get(job.id), bot_username, language))
    return results


async def answer_inline_query(
    deps: TelegramDeps, inline_query: InlineQuery, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Read the results (a short read of its own), then answer: no transaction is open during the call."""
    me = await deps.bot.me()
    sharer = inline_query.from_user
    results = await inline_results(session_factory, inline_query.query, me.username, sharer.id, sharer.language_code)
    await deps.bot.answer_inline_query(inline_query.id, results, cache_time=deps.inline_cache_time, is_personal=False)


def _result(job: Job, voice_file_id: str | None, bot_username: str | None, language: str) -> InlineQueryResultUnion:
    summary = job_summary(job, language)
    markup = None
    if bot_username:
        link = f"https://t.me/{bot_username}?start=job_{job.id}"
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Bong Pheak 🔎", url=link)]])
    if voice_file_id is not None:
        return InlineQueryResultCachedVoice(
            id=result_id(job.id), voice_file_id=voice_file_id, title=job.title, caption=summary, reply_markup=markup
        )
    return InlineQueryResultArticle(
        id=result_id(job.id),
        title=job.title,
        description=summary.split("\n", 1)[1] if "\n" in summary else None,
        input_message_content=InputTextMessageContent(message_text=summary),
        reply_markup=markup,
    )
