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
from jobs_core import geo
from jobs_core.model import Job
from jobs_core.services.jobs import live_jobs
from jobs_core.uow import UnitOfWork

MAX_RESULTS = 20
SCAN = 200  # live jobs looked at when a query filters by title
_ONE_JOB = re.compile(r"^#?\s*(\d{1,9})$")
_RESULT_ID = re.compile(r"^job:(\d{1,9})$")


def result_id(job_id: int) -> str:
    """The id of a job's inline result; Telegram sends it back in chosen_inline_result when it is shared."""
    return f"job:{job_id}"


def job_of_result(value: str) -> int | None:
    """The job id inside one of our inline result ids, or None when it is not one."""
    match = _RESULT_ID.match(value)
    return int(match.group(1)) if match else None


def job_summary(job: Job) -> str:
    """The few lines a shared job shows in someone else's chat."""
    lines = [job.title]
    if job.salary_amount is not None and job.salary_currency is not None:
        period = f"/{job.salary_period.value}" if job.salary_period else ""
        lines.append(f"💵 {job.salary_amount:,.0f} {job.salary_currency.value}{period}")
    if job.province_code:
        try:
            province = geo.province(job.province_code)
            lines.append(f"📍 {province.name_km} ({province.name_en})")
        except Exception:  # an unknown code should not hide the job
            pass
    elif job.country:
        lines.append(f"🌏 {job.country}")
    return "\n".join(lines)


async def matching_jobs(uow: UnitOfWork, query: str) -> list[Job]:
    """Live jobs for an inline query: ``#12`` is that job, other text filters titles, empty is the newest."""
    query = query.strip()
    one = _ONE_JOB.match(query)
    if one:
        job = await uow.session.get(Job, int(one.group(1)))
        return [job] if job is not None and job.is_live(uow.now()) else []
    if not query:
        return await live_jobs(uow, limit=MAX_RESULTS)
    needle = query.casefold()
    return [j for j in await live_jobs(uow, limit=SCAN) if needle in j.title.casefold()][:MAX_RESULTS]


async def inline_results(
    session_factory: async_sessionmaker[AsyncSession], query: str, bot_username: str | None
) -> list[InlineQueryResultUnion]:
    """Published jobs for an inline query: their voice note by file_id when one was uploaded, else a text
    card. Reads only; the caller answers Telegram once its transaction is over."""
    results: list[InlineQueryResultUnion] = []
    # Built inside the unit of work: leaving it rolls back, which expires the loaded jobs.
    async with UnitOfWork(session_factory) as uow:
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
            results.append(_result(job, voices.get(job.id), bot_username))
    return results


async def answer_inline_query(
    deps: TelegramDeps, inline_query: InlineQuery, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Read the results (a short read of its own), then answer: no transaction is open during the call."""
    me = await deps.bot.me()
    results = await inline_results(session_factory, inline_query.query, me.username)
    await deps.bot.answer_inline_query(inline_query.id, results, cache_time=deps.inline_cache_time, is_personal=False)


def _result(job: Job, voice_file_id: str | None, bot_username: str | None) -> InlineQueryResultUnion:
    summary = job_summary(job)
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
