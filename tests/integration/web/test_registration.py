"""A new company on the website's form: the chat registration's fields and readers, refusals naming the field
with everything typed kept, CSRF, and a pending registration whose Telegram link the page shows. (Confirming
it in the chat: tests/e2e/telegram/test_web_registration.py.)"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.model import Employer, WebRegistration
from tests.integration.web.support import Element, Site, open_site

COMPANY = {
    "name": "Mekong Build Co.",
    "phone": "012 345 678",
    "province": "12",
    "kind": "employer",
    "licence_no": "",
}
LINK = re.compile(r"^https://t\.me/BongPheakTestBot\?start=reg_([A-Za-z0-9_-]{32})$")


async def pending(site: Site) -> list[WebRegistration]:
    async with site.sessions() as session:
        return list((await session.scalars(select(WebRegistration))).all())


async def employers(site: Site) -> int:
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Employer)) or 0)


def errors(form: Element) -> dict[str, str]:
    """The error under each field, by the field's name (the <p class="error"> that follows it)."""
    found: dict[str, str] = {}
    current = ""
    for element in form.children:
        if element.tag in ("input", "select"):
            current = element.attrs.get("name", "")
        elif element.tag == "p" and "error" in element.classes():
            found[current] = element.all_text()
    return found


def chosen(form: Element, name: str) -> str:
    selected = [o for o in form.find("select", name=name).find_all("option") if "selected" in o.attrs]
    return selected[0].attrs["value"] if selected else ""


async def test_a_company_typed_on_the_form_is_kept_and_the_page_gives_its_telegram_link(
    site: Site, now: datetime
) -> None:
    action, hidden = await site.form("/en/employers/register", "register")
    page = await site.post(action, {**hidden, **COMPANY, "phone": "០១២ ៣៤៥ ៦៧៨"})  # Khmer digits, as in the chat
    link = page.find("a", id="open-telegram").attrs["href"]
    token = LINK.match(link)
    assert token is not None, link
    assert page.find("code", id="start-command").all_text() == f"/start reg_{token.group(1)}"
    assert "Mekong Build Co." in page.find("section", id="confirm").all_text()
    [held] = await pending(site)
    # Only the token's hash is kept; the company as the chat's readers read it; nothing registered yet.
    assert held.token_hash == hashlib.sha256(token.group(1).encode()).digest()
    assert (held.name, held.contact_phone, held.province_code, held.kind, held.licence_no) == (
        "Mekong Build Co.",
        "+85512345678",
        "12",
        "employer",
        None,
    )
    assert held.used_at is None and held.expires_at == now + timedelta(hours=24)
    assert await employers(site) == 0


async def test_an_agency_gives_its_licence_and_a_province_may_be_sent_by_name(site: Site) -> None:
    action, hidden = await site.form("/employers/register", "register")
    agency = {**COMPANY, "kind": "agency", "licence_no": " MoLVT-123 ", "province": "Phnom Penh"}
    await site.post(action, {**hidden, **agency})
    [held] = await pending(site)
    assert (held.kind, held.licence_no, held.province_code) == ("agency", "MoLVT-123", "12")


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("name", "   ", "This cannot be empty. (name)"),
        ("name", "x" * 121, "too long"),
        ("phone", "12345", "not a valid Cambodian phone number"),
        ("phone", "+66 81 234 5678", "Only Cambodian phone numbers"),
        ("province", "Atlantis", "do not know that province"),
        ("kind", "pirate", "Please choose one from the list."),
        ("licence_no", "L" * 41, "too long"),
    ],
)
async def test_each_bad_field_is_refused_with_the_field_named_and_everything_typed_kept(
    site: Site, field: str, typed: str, says: str
) -> None:
    action, hidden = await site.form("/en/employers/register", "register")
    sent = {**COMPANY, "licence_no": "MoLVT-9", field: typed}
    form = (await site.post(action, {**hidden, **sent}, status=400)).find("form", id="register")
    assert list(errors(form)) == [field]
    assert says in errors(form)[field]
    for name in ("name", "phone", "licence_no"):
        assert form.find("input", name=name).attrs["value"] == sent[name].strip()
    assert chosen(form, "kind") == (sent["kind"] if field != "kind" else "")  # an unknown choice: none selected
    assert chosen(form, "province") == (sent["province"] if field != "province" else "")
    assert await pending(site) == [] and await employers(site) == 0


async def test_a_recruitment_agency_without_its_licence_is_refused_in_khmer(site: Site) -> None:
    action, hidden = await site.form("/employers/register", "register")
    page = await site.post(action, {**hidden, **COMPANY, "kind": "agency", "phone": ""}, status=400)
    form = page.find("form", id="register")
    refused = errors(form)
    assert list(refused) == ["phone", "licence_no"]  # every bad field at once
    assert "លេខអាជ្ញាប័ណ្ណ" in refused["licence_no"] and "លេខទូរស័ព្ទ" in refused["phone"]
    assert form.find("input", name="name").attrs["value"] == "Mekong Build Co."
    assert chosen(form, "kind") == "agency"
    assert await pending(site) == []


async def test_a_form_without_a_good_token_or_from_another_site_is_refused_and_nothing_is_kept(site: Site) -> None:
    action, hidden = await site.form("/en/employers/register", "register")
    response = await site.client.post(action, data=COMPANY)
    assert response.status == 403
    response = await site.client.post(action, data={**COMPANY, "csrf": "1700000000.forged"})
    assert response.status == 403
    _, other = await site.form("/en/employers/", "sign-in")  # a good token, made for another form
    response = await site.client.post(action, data={**COMPANY, **other})
    assert response.status == 403
    response = await site.client.post(action, data={**COMPANY, **hidden}, headers={"Origin": "https://evil.example"})
    assert response.status == 403
    assert await pending(site) == []


async def test_without_the_bots_username_the_page_says_which_message_to_send(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path
) -> None:
    async with open_site(session_factory, now, tmp_path, telegram_bot=None) as site:
        action, hidden = await site.form("/en/employers/register", "register")
        page = await site.post(action, {**hidden, **COMPANY})
        assert page.find_all("a", id="open-telegram") == []
        confirm = page.find("section", id="confirm").all_text()
        assert "Open our bot in Telegram and send this message:" in confirm
        assert re.fullmatch(r"/start reg_[A-Za-z0-9_-]{32}", page.find("code", id="start-command").all_text())
        signing_in = await site.get("/en/employers/")
        assert signing_in.find("a", id="register").attrs["href"] == "/en/employers/register"
        assert signing_in.find_all("a", id="register-telegram") == []


async def test_the_form_is_in_khmer_at_the_bare_path(site: Site) -> None:
    page = await site.get("/employers/register")
    assert page.find("h1").all_text() == "ចុះឈ្មោះក្រុមហ៊ុនរបស់អ្នក"
    kinds = [o.all_text() for o in page.find("select", name="kind").find_all("option")]
    assert "ភ្នាក់ងារ" in " ".join(kinds)  # the chat's own labels, in Khmer
