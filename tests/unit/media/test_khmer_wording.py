"""The Khmer a native editor signed off stays that way: one brand spelling, polite phone clips, clear words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from jobs_core.model.job import DEFAULT_SECTORS
from media import composer
from media.catalog import load_catalog

KM_PO = Path(__file__).resolve().parents[3] / "conversations" / "locale" / "km" / "LC_MESSAGES" / "messages.po"
BRAND = "បងភក្តិ"  # "Bong Pheak": ភក្តិ with the subscript ត (U+178F), as the UI spells it
CATALOG = load_catalog()
IVR = {key: p.km for key, p in CATALOG.items() if key.startswith("ivr.")}


def _po_texts() -> list[str]:
    with KM_PO.open("rb") as f:
        catalog = read_po(f, locale="km")
    return [m.string for m in catalog if m.id and isinstance(m.string, str) and m.string]


def _all_khmer() -> list[str]:
    return [p.km for p in CATALOG.values()] + _po_texts() + [km for _code, _en, km in DEFAULT_SECTORS]


def test_the_brand_is_spelled_one_way_in_clips_and_ui() -> None:
    texts = _all_khmer()
    # Any "បងភ…" is the brand; it must be exactly BRAND (not បងភ្ញាក់ "wake up", not ភក្ដិ with ដ).
    # Khmer runs words together, so compare as many characters as the brand has.
    spellings = {m.group(0) for text in texts for m in re.finditer(r"បង\s*ភ.{0,4}", text)}
    assert spellings == {BRAND}
    assert BRAND in CATALOG["ivr.intro"].km and BRAND in CATALOG["ivr.checkin.question"].km
    assert any(BRAND in text for text in _po_texts())


def test_one_spelling_of_oy() -> None:
    assert not [text for text in _all_khmer() if "ឲ្យ" in text]
    assert any("ឱ្យ" in text for text in IVR.values())


@pytest.mark.parametrize("key", sorted(IVR))
def test_phone_clips_address_the_listener_politely(key: str) -> None:
    text = IVR[key]
    # អ្នក alone is too familiar on the phone: លោកអ្នក. អ្នកស្គាល់គ្នា (someone you know) and អ្នកដែល (the
    # person who) are other words.
    bare = re.sub(r"លោកអ្នក|អ្នកស្គាល់គ្នា|អ្នកដែល", "", text)
    assert "អ្នក" not in bare, text
    # Every "press" is asked for: សូមចុចលេខ.
    assert text.count("ចុចលេខ") == text.count("សូមចុចលេខ"), text
    # Only the goodbye thanks: the clip before it never does, so "thank you" is never said twice in a row.
    if key != "ivr.goodbye":
        assert "អរគុណ" not in text, text


def test_calls_open_with_a_greeting_and_close_with_thanks_and_goodbye() -> None:
    assert IVR["ivr.intro"].startswith("ជម្រាបសួរ")
    assert IVR["ivr.checkin.question"].startswith("ជម្រាបសួរ")
    assert IVR["ivr.goodbye"] == "សូមអរគុណ។ ជម្រាបលា។"
    endings = [
        composer.opt_out_confirmation(),
        composer.checkin_ok(),
        composer.checkin_help(),
        composer.callback_confirmation("hour"),
        composer.callback_confirmation("tomorrow"),
        composer.goodbye(),
    ]
    for utterance in endings:
        assert utterance.keys[-1] == "ivr.goodbye" and utterance.keys.count("ivr.goodbye") == 1, utterance.keys


def test_the_stop_option_uses_the_consent_wording() -> None:
    stop = IVR["ivr.menu.stop"]
    assert stop == "បើលោកអ្នកមិនចង់ឱ្យយើងទូរស័ព្ទមកទៀតទេ សូមចុចលេខ ៩។"
    assert IVR["ivr.consent.question"].endswith(stop)


def test_the_words_the_editor_asked_for() -> None:
    documents = "អត្តសញ្ញាណប័ណ្ណ ឬលិខិតឆ្លងដែន"
    assert documents in CATALOG["safety.intro"].km and "មិនប្រគល់ឱ្យវិញ" in CATALOG["safety.intro"].km
    checkin = IVR["ivr.checkin.question"]
    assert documents in checkin and "សូមចុចលេខ ៩ ដើម្បីឱ្យយើងអាចជួយលោកអ្នកបាន" in checkin
    assert "ឯកសារ" not in checkin and "យកទុក" not in checkin
    assert "បទពិសោធន៍" not in IVR["ivr.experience.question"]
    assert "ធ្លាប់ធ្វើការងារបែបនេះ" in IVR["ivr.experience.question"]
    assert IVR["ivr.pitch.intro"] == "យើងមានព័ត៌មានការងារមួយ ដែលអាចសមនឹងលោកអ្នក។"
    for relation in ("sibling", "relative", "friend", "acquaintance"):
        said = IVR[f"ivr.recommended.{relation}"]
        assert "ផ្ដល់លេខទូរស័ព្ទរបស់លោកអ្នក" in said and "ណែនាំ" not in said
    assert CATALOG["benefit.transport"].km == "ការជូនទៅមកកន្លែងធ្វើការ"
    assert CATALOG["sector.domestic"].km == "បម្រើតាមផ្ទះ"
    assert CATALOG["sector.manufacturing"].km.count("រោងចក្រ") == 1
    assert CATALOG["place.country"].km == "គឺនៅ" and CATALOG["currency.cents"].km == "សេន"
    assert "num.point" not in CATALOG  # ចុច is "press": never in a pay figure
    sectors = {code: km for code, _en, km in DEFAULT_SECTORS}
    assert sectors["domestic"] == "ការងារបម្រើតាមផ្ទះ" and sectors["manufacturing"].count("រោងចក្រ") == 1


def test_the_ui_uses_the_clearer_words_too() -> None:
    with KM_PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f, locale="km") if m.id}
    assert po["Not hired"] == po["not hired"] == "មិនត្រូវបានជ្រើសរើស"
    assert po["Transport"] == "ការជូនទៅមកកន្លែងធ្វើការ"
    assert "រក្សាទុក" not in po["Keeps ID cards or passports"]
    texts = _all_khmer()
    assert not [t for t in texts if "ធ្វើការនេះ" in t]  # reads "do this job": ធ្វើបែបនេះ
    assert not [t for t in texts if "ការងារផ្ទះ" in t]  # household chores, not domestic work
