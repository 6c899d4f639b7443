"""The job list: filters, paging, cards with a voice note, both languages, page weight."""

from __future__ import annotations

from tests.integration.web.support import Site

PAGE_LIMIT = 60 * 1024


def titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.find("h2").all_text() for c in page.by_class("card") if c.attrs.get("data-job")]


async def test_the_list_shows_live_jobs_as_cards_with_pay_place_and_a_voice_note(site: Site) -> None:
    job = await site.job(title="Sewing operators")
    page = await site.get("/")
    [card] = [c for c in page.by_class("card") if c.attrs.get("data-job")]
    assert card.find("a").attrs["href"] == f"/jobs/{job}"
    assert "$210" in card.by_class("pay")[0].all_text()
    assert "ភ្នំពេញ" in card.by_class("place")[0].all_text()
    assert card.find("audio").attrs["src"] == f"/audio/jobs/{job}-km.mp3"
    assert page.find("html").attrs["lang"] == "km"
    english = await site.get("/en/")
    assert english.find("html").attrs["lang"] == "en"
    assert "Phnom Penh" in english.by_class("place")[0].all_text()
    assert english.find("a", href=f"/en/jobs/{job}")


async def test_filters_by_province_sector_and_pay_in_the_jobs_currency(site: Site) -> None:
    await site.job(title="Phnom Penh sewing")
    await site.job(title="Siem Reap cook", province="Siem Reap", sector="hospitality", salary_amount="300")
    await site.job(title="Riel job", salary_amount="900000", salary_currency="KHR")
    assert titles(await site.get("/?province=17")) == ["Siem Reap cook"]
    assert titles(await site.get("/?sector=manufacturing&province=12")) == ["Riel job", "Phnom Penh sewing"]
    assert titles(await site.get("/?pay_from=250&currency=USD")) == ["Siem Reap cook"]
    assert titles(await site.get("/?pay_to=250&currency=USD")) == ["Phnom Penh sewing"]
    assert titles(await site.get("/?pay_from=500000&currency=KHR")) == ["Riel job"]
    # The form shows what was asked.
    page = await site.get("/?province=17")
    assert page.find("option", value="17").attrs.get("selected") is not None


async def test_near_a_province_adds_the_provinces_it_borders_its_own_jobs_first(site: Site) -> None:
    await site.job(title="Siem Reap cook", province="Siem Reap")
    await site.job(title="Battambang rice mill", province="Battambang")
    await site.job(title="Kep crab market", province="Kep")
    await site.job(title="Oddar Meanchey farm", province="Otdar Meanchey")
    # Battambang touches Siem Reap; Kep is at the other end of the country; the province's own job comes first
    # although it is the oldest.
    near = await site.get("/en/?province=17&near=1")
    assert titles(near) == ["Siem Reap cook", "Oddar Meanchey farm", "Battambang rice mill"]
    assert near.find("input", name="near").attrs.get("checked") is not None
    assert titles(await site.get("/en/?province=17")) == ["Siem Reap cook"]
    # Ticked without a province: nothing to be near, every job.
    assert len(titles(await site.get("/en/?near=1"))) == 4


async def test_a_bad_filter_is_named_and_kept(site: Site) -> None:
    await site.job()
    page = await site.get("/en/?pay_from=lots", status=400)
    assert page.find("input", name="pay_from").attrs["value"] == "lots"
    [error] = [e for e in page.by_class("error") if e.attrs.get("data-field") == "pay_from"]
    assert "pay" in error.all_text().lower()


async def test_pages_of_ten_newest_first(site: Site) -> None:
    for n in range(23):
        await site.job(title=f"Job {n:02d}")
    first = await site.get("/en/")
    assert titles(first) == [f"Job {n:02d}" for n in range(22, 12, -1)]
    older = first.find("a", rel="next").attrs["href"]
    assert older == "/en/?page=2"
    third = await site.get((await site.get(older)).find("a", rel="next").attrs["href"])
    assert titles(third) == ["Job 02", "Job 01", "Job 00"]
    assert not third.find_all("a", rel="next")
    filtered = await site.get("/en/?province=12&page=2")
    assert filtered.find("a", rel="prev").attrs["href"] == "/en/?province=12"


async def test_pages_stay_light(site: Site) -> None:
    for n in range(10):
        job = await site.job(title=f"Job {n}", description="ការងារ " * 280)
    # Everything a first visit loads but the audio (which waits for a press on play): page, style, script, font.
    for path in ("/", "/en/", f"/jobs/{job}", f"/en/jobs/{job}"):
        response = await site.client.get(path)
        html = await response.read()
        css = await (await site.client.get("/static/site.css")).read()
        font = await (await site.client.get("/static/noto-sans-khmer.woff")).read()
        script = await (await site.client.get("/static/site.js")).read()
        total = len(html) + len(css) + len(font) + len(script)
        assert total <= PAGE_LIMIT, (path, len(html), len(css), len(font), len(script))
