"""`bongpheak stats`: the monthly figures Bong Pheak reported."""

from __future__ import annotations

import argparse
import asyncio
import json

from bongpheak.bootstrap import connect, running_database
from bongpheak.settings import Settings
from jobs_core.model import Currency
from jobs_core.pricing import Money
from jobs_core.services.billing import Revenue, revenue_rows
from jobs_core.stats import MonthStats, monthly_stats


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("stats", help="monthly figures")
    parser.add_argument("--json", action="store_true", help="one JSON object per month")
    parser.set_defaults(handler=_stats)


def _stats(args: argparse.Namespace) -> int:
    with running_database(Settings()) as url:
        print(asyncio.run(render_stats(url, as_json=args.json)))
    return 0


async def render_stats(url: str, as_json: bool = False) -> str:
    async with connect(url, pool_size=2) as db, db.sessions() as session:
        months = await monthly_stats(session)
        revenue = await revenue_rows(session)
    if as_json:
        lines = [json.dumps(m.as_dict(), ensure_ascii=False) for m in months]
        lines += [json.dumps({"revenue": _revenue_dict(r)}) for r in revenue]
        return "\n".join(lines)
    table = format_table(months)
    return f"{table}\n\n{format_revenue(revenue)}" if revenue else table


def _amount(currency: str, minor: int) -> str:
    return str(Money(Currency(currency), minor).major())


def _revenue_dict(r: Revenue) -> dict[str, str]:
    return {
        "month": r.month.strftime("%Y-%m"),
        "product": r.product,
        "currency": r.currency,
        "received": _amount(r.currency, r.paid_minor),
        "refunded": _amount(r.currency, r.refunded_minor),
    }


def format_revenue(rows: list[Revenue]) -> str:
    """Paid listings: money received per month, by product and currency (refunds shown, not subtracted)."""
    header = ("revenue month", "product", "currency", "received", "refunded")
    lines = [header] + [tuple(_revenue_dict(r).values()) for r in rows]
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in lines)


def format_table(months: list[MonthStats]) -> str:
    """A plain-text table an operator can paste into a report."""
    header = (
        "month",
        "relatives tg/ms",
        "jobs",
        "apps ivr/tg/ms/web",
        "calls placed/answered",
        "hires",
        "shares tg/ms",
    )
    rows = [header]
    for m in months:
        rel = m.active_relatives
        app = m.applications
        rows.append(
            (
                m.month.strftime("%Y-%m"),
                f"{rel.get('telegram', 0)}/{rel.get('messenger', 0)}",
                str(m.jobs_published),
                "/".join(str(app.get(c, 0)) for c in ("ivr", "telegram", "messenger", "web")),
                f"{m.calls_placed}/{m.calls_answered}",
                str(m.hires),
                f"{m.shares.get('telegram', 0)}/{m.shares.get('messenger', 0)}",
            )
        )
    if len(rows) == 1:
        return "no activity yet"
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows)
