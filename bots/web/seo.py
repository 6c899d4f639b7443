"""For search engines: ``/sitemap.xml`` (the job list and every live listing in both languages), ``robots.txt``,
and schema.org ``JobPosting`` data on job pages (a closed listing says so with a past ``validThrough``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from sqlalchemy import select

from bots.web.pages import DEPS, base_url
from jobs_core import geo
from jobs_core.clock import local
from jobs_core.model import Job, JobStatus

SITEMAP_LIMIT = 25_000  # a sitemap holds 50,000 addresses; two per listing


def setup(app: web.Application) -> None:
    app.router.add_get("/sitemap.xml", sitemap)
    app.router.add_get("/robots.txt", robots)


async def robots(request: web.Request) -> web.Response:
    text = f"User-agent: *\nDisallow: /admin/\nDisallow: /go/\nSitemap: {base_url(request)}/sitemap.xml\n"
    return web.Response(text=text)


async def sitemap(request: web.Request) -> web.Response:
    site = base_url(request)
    async with request.app[DEPS].dialog.session_factory() as session:
        rows = (
            await session.execute(
                select(Job.id, Job.published_at)
                .where(
                    Job.status == JobStatus.PUBLISHED,
                    Job.revision_of.is_(None),
                    Job.expires_at > request.app[DEPS].dialog.clock(),
                )
                .order_by(Job.id.desc())
                .limit(SITEMAP_LIMIT)
            )
        ).all()
    entries = [f"<url><loc>{escape(site)}/</loc></url>", f"<url><loc>{escape(site)}/en/</loc></url>"]
    for job_id, published in rows:
        modified = f"<lastmod>{published.date().isoformat()}</lastmod>" if published else ""
        for lang_prefix in ("", "/en"):
            entries.append(f"<url><loc>{escape(site)}{lang_prefix}/jobs/{job_id}</loc>{modified}</url>")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(entries) + "</urlset>\n"
    )
    return web.Response(text=body, content_type="application/xml")


PERIOD_UNITS = {"month": "MONTH", "day": "DAY", "hour": "HOUR"}


def job_posting(job: Job, url: str, now: datetime) -> str:
    """The listing as schema.org JobPosting JSON, safe inside a <script> element."""
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": job.title,
        "description": job.description or job.title,
        "url": url,
        "hiringOrganization": {"@type": "Organization", "name": job.employer.name},
        "totalJobOpenings": job.positions,
        "employmentType": "FULL_TIME",
    }
    if job.published_at:
        data["datePosted"] = local(job.published_at).date().isoformat()
    # A listing no longer open ends in the past: search engines drop it, the page stays readable.
    valid_through = job.expires_at if job.is_live(now) else (job.closed_at or job.expires_at or now)
    if valid_through is not None:
        data["validThrough"] = local(min(valid_through, now) if not job.is_live(now) else valid_through).isoformat()
    if job.country:
        data["jobLocation"] = {"@type": "Place", "address": {"@type": "PostalAddress", "addressCountry": job.country}}
    elif job.province_code:
        province = geo.province(job.province_code)
        data["jobLocation"] = {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "addressRegion": province.name_en, "addressCountry": "KH"},
        }
    if job.salary_amount is not None and job.salary_currency is not None:
        value: dict[str, Any] = {"@type": "QuantitativeValue", "value": float(job.salary_amount)}
        if job.salary_period and job.salary_period.value in PERIOD_UNITS:
            value["unitText"] = PERIOD_UNITS[job.salary_period.value]
        data["baseSalary"] = {"@type": "MonetaryAmount", "currency": job.salary_currency.value, "value": value}
    # "</" would end the script element early; JSON allows "<\/".
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
