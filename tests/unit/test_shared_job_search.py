"""What a shared job says and how inline search reads province and sector names, with any text people type."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bots.telegram.inline import search_filters
from conversations.cards import shared_money
from conversations.i18n import gettext_for
from jobs_core.model import Sector
from jobs_core.model.job import DEFAULT_SECTORS

SECTORS = [Sector(code=code, name_en=en, name_km=km, position=n) for n, (code, en, km) in enumerate(DEFAULT_SECTORS)]


def test_pay_in_the_sharers_words() -> None:
    km, en = gettext_for("km"), gettext_for("en")
    assert shared_money(Decimal(250), "USD", "month", km, "km") == "២៥០ ដុល្លារ/ខែ"
    assert shared_money(Decimal(250), "USD", "month", en, "en") == "$250/month"
    assert shared_money(Decimal(500000), "KHR", "day", km, "km") == "៥០០,០០០ រៀល/ថ្ងៃ"
    assert shared_money(Decimal("7.5"), "USD", None, en, "en") == "$7.50"


def test_names_in_khmer_and_english_with_spaces_case_and_zero_width_characters() -> None:
    cases = {
        "Phnom Penh": ("12", None),
        "ភ្នំពេញ": ("12", None),
        "រាជធានីភ្នំពេញ": ("12", None),
        "PHNOM\u200bPENH ": ("12", None),
        "garment": (None, "manufacturing"),
        "កាត់ដេរ": (None, "manufacturing"),
        "សំណង់ សៀមរាប": ("17", "construction"),
        "security guards in Kampot": ("07", "security"),
        "😀": (None, None),
        "\u200b": (None, None),
    }
    for query, expected in cases.items():
        assert search_filters(query, SECTORS) == expected, query


@given(st.text(max_size=60))
def test_any_text_gives_known_codes_or_none(query: str) -> None:
    province, sector = search_filters(query, SECTORS)
    assert province is None or (len(province) == 2 and province.isdigit())
    assert sector is None or sector in {code for code, _en, _km in DEFAULT_SECTORS}
