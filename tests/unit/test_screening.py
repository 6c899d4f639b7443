"""Trafficking-risk screening: what a moderator would see (risk and reason codes) for realistic listings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bongpheak.cli import main
from jobs_core.screening import (
    AGENCIES_ENV,
    REASON_EXPLANATIONS,
    REASONS,
    Assessment,
    LicensedAgencies,
    Listing,
    ListingError,
    Risk,
    screen,
)
from tests.unit.test_screening_moderator import CASES as MODERATOR_CASES

SAMPLE = Path(__file__).parents[2].parent / "shared" / "samples" / "screening-sample.jsonl"


def _sample_lines() -> list[dict[str, Any]]:
    if not SAMPLE.exists():
        return []
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _shipped_agency_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AGENCIES_ENV, raising=False)


BASE: dict[str, Any] = {
    "title": "Factory workers",
    "description": "Garment factory needs sewing operators. Overtime paid, NSSF.",
    "employer_name": "Golden Thread Apparel Co., Ltd.",
    "employer_kind": "employer",
    "licence_no": None,
    "location": "Phnom Penh",
    "sector": "manufacturing",
    "salary_amount": 215,
    "salary_currency": "USD",
    "salary_period": "month",
    "min_age": 18,
    "max_age": 45,
    "contact": "+85523880112",
}


def assess(**changes: Any) -> Assessment:
    return screen(Listing.from_dict({**BASE, **changes}))


# ------------------------------------------------------------------------------------------- sample


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"screening sample not found at {SAMPLE}")
@pytest.mark.parametrize("line", _sample_lines(), ids=lambda line: str(line["id"]))
def test_sample_listing_gets_expected_risk(line: dict[str, Any]) -> None:
    assessment = screen(Listing.from_dict(line))
    assert assessment.risk == line["expected_risk"], assessment.reasons


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"screening sample not found at {SAMPLE}")
def test_sample_reasons_are_the_ones_a_moderator_needs() -> None:
    by_id = {line["id"]: screen(Listing.from_dict(line)).reasons for line in _sample_lines()}
    assert {"fee_charged", "abroad_unlicensed", "abroad_with_fees", "irregular_crossing"} <= set(by_id["s04"])
    assert "minor_hazardous" in by_id["s04"]  # 16-year-olds on fishing boats
    assert "scam_compound" in by_id["s05"]
    assert "underage" in by_id["s06"]
    assert {"fee_charged", "documents_retained", "abroad_unlicensed"} <= set(by_id["s07"])
    assert by_id["s08"] == ()  # "service charge shared monthly" is not a fee
    assert by_id["s09"] == ("abroad_licensed",)  # "No fee beyond the official ones" is not a fee
    assert "scam_compound" in by_id["s11"]
    assert set(by_id["s12"]) == {"no_employer_name", "vague_listing"}
    for sample_id in ("s01", "s02", "s03", "s10"):
        assert by_id[sample_id] == (), sample_id


# ------------------------------------------------------------------------------ reasons, one by one

# (name, changes to BASE, expected risk, reason codes that must be present)
CASES: list[tuple[str, dict[str, Any], Risk, set[str]]] = [
    ("plain factory job", {}, Risk.LOW, set()),
    # Fees and deposits.
    (
        "registration fee",
        {"description": "Registration fee $30 paid on the first day."},
        Risk.HIGH,
        {"fee_charged"},
    ),
    ("deposit", {"description": "Workers pay a $50 deposit for the uniform."}, Risk.HIGH, {"fee_charged"}),
    (
        "guarantee money",
        {"description": "Bring a guarantor and $100 guarantee money."},
        Risk.HIGH,
        {"fee_charged"},
    ),
    (
        "km service fee",
        {"description": "ត្រូវបង់ថ្លៃសេវា ៥០ ដុល្លារ មុនពេលចូលធ្វើការ"},
        Risk.HIGH,
        {"fee_charged"},
    ),
    ("km deposit", {"description": "ត្រូវដាក់ប្រាក់កក់ ១០០ ដុល្លារ"}, Risk.HIGH, {"fee_charged"}),
    (
        "km deposit after no experience",
        {"description": "មិនត្រូវការបទពិសោធន៍ បង់ប្រាក់កក់ ៥០ ដុល្លារ"},
        Risk.HIGH,
        {"fee_charged"},
    ),
    (
        "workers must pay for the visa",
        {"description": "Workers must pay $300 for visa and medical check."},
        Risk.HIGH,
        {"fee_charged"},
    ),
    # Documents kept.
    (
        "passport kept",
        {"description": "Your passport will be kept by the company during the contract."},
        Risk.HIGH,
        {"documents_retained"},
    ),
    (
        "hand over ID",
        {"description": "You must hand over your ID card to the supervisor on arrival."},
        Risk.HIGH,
        {"documents_retained"},
    ),
    (
        "km passport kept",
        {"description": "ក្រុមហ៊ុននឹងរក្សាទុកលិខិតឆ្លងដែនរបស់អ្នក"},
        Risk.HIGH,
        {"documents_retained"},
    ),
    (
        "km ID card kept",
        {"description": "អត្តសញ្ញាណប័ណ្ណត្រូវប្រគល់ឱ្យថៅកែ"},
        Risk.HIGH,
        {"documents_retained"},
    ),
    # Work abroad.
    (
        "Malaysia without licence",
        {"title": "Factory workers for Malaysia", "location": "abroad: Malaysia"},
        Risk.HIGH,
        {"abroad_unlicensed"},
    ),
    (
        "cross the border",
        {"description": "We take you to cross the border for farm work."},
        Risk.HIGH,
        {"abroad_unlicensed"},
    ),
    (
        "km Thailand",
        {"title": "ត្រូវការកម្មករ", "description": "ទៅធ្វើការនៅប្រទេសថៃ ប្រាក់ខែល្អ"},
        Risk.HIGH,
        {"abroad_unlicensed"},
    ),
    (
        "km abroad",
        {"title": "ការងារនៅក្រៅប្រទេស", "description": "ធ្វើការក្នុងរោងចក្រ"},
        Risk.HIGH,
        {"abroad_unlicensed"},
    ),
    (
        "licensed agency to Japan",
        {
            "title": "Technical intern trainees for Japan",
            "employer_name": "Korea Link Recruitment",
            "employer_kind": "agency",
            "licence_no": "mlvt 0473",
            "location": "abroad: Japan",
            "salary_amount": 1400,
        },
        Risk.MEDIUM,
        {"abroad_licensed"},
    ),
    (
        "licensed agency to Japan asking a fee",
        {
            "title": "Workers for Japan",
            "description": "Japanese language training fee $800 before departure.",
            "employer_name": "Korea Link Recruitment",
            "employer_kind": "agency",
            "licence_no": "MLVT-0473",
            "location": "Japan",
        },
        Risk.HIGH,
        {"abroad_with_fees", "abroad_licensed", "fee_charged"},
    ),
    (
        "licence number not in the list",
        {
            "title": "Workers for Korea",
            "employer_kind": "agency",
            "licence_no": "MLVT-9999",
            "location": "abroad: South Korea",
        },
        Risk.HIGH,
        {"abroad_unlicensed", "licence_not_listed"},
    ),
    (
        "listed licence used by another agency",
        {
            "title": "Workers for Korea",
            "employer_name": "Sunrise Manpower",
            "employer_kind": "agency",
            "licence_no": "MLVT-0473",
            "location": "abroad: South Korea",
        },
        Risk.MEDIUM,
        {"abroad_licensed", "licence_name_mismatch"},
    ),
    (
        "no passport needed",
        {"title": "Farm work", "description": "No passport needed, we arrange the crossing."},
        Risk.HIGH,
        {"irregular_crossing", "abroad_unlicensed"},
    ),
    (
        "km no passport needed",
        {"description": "មិនត្រូវការលិខិតឆ្លងដែន យើងជូនទៅ"},
        Risk.HIGH,
        {"irregular_crossing"},
    ),
    ("Thai farms", {"title": "Work on Thai farms", "description": "Harvest season."}, Risk.HIGH, {"abroad_unlicensed"}),
    (
        "passports left with the agency",
        {"description": "Passports are left with the agency until the end of the contract."},
        Risk.HIGH,
        {"documents_retained"},
    ),
    # Ages.
    ("age 14", {"min_age": 14}, Risk.HIGH, {"underage"}),
    (
        "age written in the text",
        {"description": "Packing workers, age 13 and up.", "min_age": None},
        Risk.HIGH,
        {"underage"},
    ),
    ("16 on a building site", {"sector": "construction", "min_age": 16}, Risk.HIGH, {"minor_hazardous"}),
    ("17 as a guard", {"sector": "security", "min_age": 17}, Risk.HIGH, {"minor_hazardous"}),
    ("16 on boats", {"sector": "fishing", "min_age": 16}, Risk.HIGH, {"minor_hazardous"}),
    ("16 on night shift", {"min_age": 16, "description": "Night shift packing."}, Risk.HIGH, {"minor_hazardous"}),
    ("16, night work flag", {"min_age": 16, "night_work": True}, Risk.HIGH, {"minor_hazardous"}),
    (
        "16 in a karaoke",
        {"sector": "hospitality", "min_age": 16, "description": "KTV waitress"},
        Risk.HIGH,
        {"minor_hazardous"},
    ),
    (
        "km age 16 construction",
        {"sector": "construction", "min_age": None, "description": "អាយុ ចាប់ពី ១៦ ឆ្នាំ"},
        Risk.HIGH,
        {"minor_hazardous"},
    ),
    (
        "km night shift 16",
        {"min_age": 16, "description": "ធ្វើការវេនយប់ នៅរោងចក្រ"},
        Risk.HIGH,
        {"minor_hazardous"},
    ),
    # Pay far above the norm (inside Cambodia).
    (
        "construction $1000 a month",
        {"sector": "construction", "salary_amount": 1000},
        Risk.MEDIUM,
        {"pay_far_above_norm"},
    ),
    (
        "no experience and $700 in a factory",
        {"salary_amount": 700, "description": "No experience needed."},
        Risk.MEDIUM,
        {"pay_far_above_norm"},
    ),
    (
        "riel per day far above",
        {"sector": "construction", "salary_amount": 150000, "salary_currency": "KHR", "salary_period": "day"},
        Risk.MEDIUM,
        {"pay_far_above_norm"},
    ),
    (
        "pay only in the Khmer text, Khmer digits",
        {
            "sector": "retail",
            "description": "ប្រាក់ខែ ១២០០ ដុល្លារ",
            "salary_amount": None,
            "salary_currency": None,
            "salary_period": None,
        },
        Risk.MEDIUM,
        {"pay_far_above_norm"},
    ),
    # Scam compounds.
    (
        "typing job in Sihanoukville",
        {
            "title": "Typing staff",
            "sector": "other",
            "description": "Work in Sihanoukville, no experience, salary $1,000, free accommodation.",
            "salary_amount": 1000,
            "contact": "+85570111333",
        },
        Risk.HIGH,
        {"scam_compound", "pay_far_above_norm", "border_town", "free_travel_housing"},
    ),
    (
        "online customer service, high pay",
        {
            "title": "Online customer service",
            "sector": "other",
            "description": "No experience needed, high salary, we pay your travel.",
            "salary_amount": None,
            "salary_currency": None,
            "salary_period": None,
        },
        Risk.HIGH,
        {"scam_compound", "high_pay_promise", "free_travel_housing"},
    ),
    (
        "km casino in Poipet",
        {
            "title": "ត្រូវការបុគ្គលិកកាស៊ីណូ",
            "sector": "hospitality",
            "description": "ធ្វើការនៅប៉ោយប៉ែត ប្រាក់ខែខ្ពស់ ស្នាក់នៅ និងហូបចុកឥតគិតថ្លៃ",
            "location": "Banteay Meanchey",
            "salary_amount": None,
            "salary_currency": None,
            "salary_period": None,
        },
        Risk.HIGH,
        {"scam_compound", "border_town", "high_pay_promise", "free_travel_housing"},
    ),
    (
        "two medium scam signs without a scam-type job",
        {"sector": "construction", "salary_amount": 1100, "contact": "telegram @build_hr"},
        Risk.HIGH,
        {"scam_compound", "pay_far_above_norm", "messaging_handle_only"},
    ),
    (
        "penalty for leaving",
        {"description": "If you leave before 6 months you must pay $300."},
        Risk.HIGH,
        {"exit_penalty"},
    ),
    ("cannot leave", {"description": "Workers cannot leave the compound."}, Risk.HIGH, {"exit_penalty"}),
    (
        "km penalty for quitting",
        {"description": "បើឈប់មុនកិច្ចសន្យា ត្រូវពិន័យ ២០០ ដុល្លារ"},
        Risk.HIGH,
        {"exit_penalty"},
    ),
    # Contact, employer, vagueness.
    ("telegram handle only", {"contact": "telegram @factoryhr"}, Risk.MEDIUM, {"messaging_handle_only"}),
    ("t.me link only", {"contact": "t.me/factory_jobs"}, Risk.MEDIUM, {"messaging_handle_only"}),
    ("no employer name", {"employer_name": ""}, Risk.MEDIUM, {"no_employer_name"}),
    ("placeholder employer name", {"employer_name": "Company"}, Risk.MEDIUM, {"no_employer_name"}),
    (
        "vague, no pay",
        {
            "description": "Good salary, many benefits. Call now.",
            "salary_amount": None,
            "salary_currency": None,
            "salary_period": None,
        },
        Risk.MEDIUM,
        {"vague_listing"},
    ),
    (
        "km vague, no pay",
        {"description": "ប្រាក់ខែល្អ បន្ទាន់", "salary_amount": None, "salary_currency": None, "salary_period": None},
        Risk.MEDIUM,
        {"vague_listing"},
    ),
    (
        "three medium signs",
        {
            "employer_name": "",
            "description": "Good salary, many benefits.",
            "salary_amount": None,
            "salary_currency": None,
            "salary_period": None,
            "contact": "@hr_jobs",
        },
        Risk.HIGH,
        {"multiple_warning_signs", "no_employer_name", "vague_listing", "messaging_handle_only"},
    ),
    # Low-severity notes do not raise the risk on their own.
    (
        "factory in Bavet SEZ with free dormitory",
        {"description": "Garment factory in Bavet SEZ, free dormitory.", "location": "Svay Rieng"},
        Risk.LOW,
        {"border_town", "free_travel_housing"},
    ),
    ("high pay promise alone", {"description": "High salary for hard workers."}, Risk.LOW, {"high_pay_promise"}),
]


@pytest.mark.parametrize(("name", "changes", "risk", "codes"), CASES, ids=[case[0] for case in CASES])
def test_listing_risk_and_reasons(name: str, changes: dict[str, Any], risk: Risk, codes: set[str]) -> None:
    assessment = assess(**changes)
    assert assessment.risk is risk, (name, assessment.reasons)
    assert codes <= set(assessment.reasons), (name, assessment.reasons)


def test_every_reason_code_is_exercised_and_explained() -> None:
    exercised = set().union(*(codes for *_, codes in [*CASES, *MODERATOR_CASES]))
    assert exercised == set(REASONS)
    for code, reason in REASONS.items():
        assert REASON_EXPLANATIONS[code] == reason.explanation
        assert reason.explanation.endswith(".")


# ---------------------------------------------------------------------------- false-positive traps

TRAPS: list[tuple[str, dict[str, Any]]] = [
    ("no fee", {"description": "No fee beyond the official ones. We never ask workers for any deposit."}),
    ("employer pays the fees", {"description": "The company pays all visa and medical fees."}),
    ("service charge", {"sector": "hospitality", "description": "Service charge shared monthly, meals on duty."}),
    ("salary by bank deposit", {"description": "Salary paid by bank deposit every month."}),
    ("km no service fee", {"description": "មិនយកថ្លៃសេវាពីកម្មករទេ"}),
    ("km free of fee", {"description": "ការជ្រើសរើសឥតគិតថ្លៃសេវា"}),
    ("km employer pays salary", {"description": "ក្រុមហ៊ុនបង់ប្រាក់ខែរៀងរាល់ខែ"}),
    ("must hold an ID card", {"description": "Applicants must hold a valid ID card."}),
    ("bring ID card", {"description": "Bring your ID card and a photo."}),
    ("we never keep passports", {"description": "We never keep your passport."}),
    ("km ID copy", {"description": "សូមយកអត្តសញ្ញាណប័ណ្ណច្បាប់ចម្លងមក"}),
    ("Korean restaurant", {"sector": "hospitality", "description": "Korean restaurant in BKK1 needs waiters."}),
    ("Chinese-owned factory", {"description": "Chinese-owned garment factory, Chinese speakers welcome."}),
    ("Gulf of Thailand", {"location": "Kampot", "description": "Fish processing plant on the Gulf of Thailand."}),
    ("km Thai food", {"sector": "hospitality", "description": "ភោជនីយដ្ឋានម្ហូបថៃ ត្រូវការចុងភៅ"}),
    ("km daily wage", {"description": "ប្រាក់ឈ្នួល ៤០ ០០០ រៀល ក្នុងមួយថ្ងៃ", "salary_amount": None}),
    (
        "construction with accommodation",
        {"sector": "construction", "salary_amount": 280, "description": "NSSF, uniform provided, accommodation."},
    ),
    ("16 in manufacturing (light work)", {"min_age": 16}),
    (
        "casino dealer with experience",
        {
            "title": "Casino dealer",
            "sector": "hospitality",
            "description": "Two years' experience, training provided.",
            "salary_amount": 400,
            "min_age": 21,
        },
    ),
    (
        "online shop",
        {"sector": "retail", "salary_amount": 180, "description": "Online shop needs sales staff, no experience."},
    ),
    (
        "licensed agency at home",
        {"employer_name": "Korea Link Recruitment Co., Ltd.", "employer_kind": "agency", "licence_no": "MLVT-0473"},
    ),
    ("email contact", {"contact": "hr@goldenthread.com.kh"}),
    ("telegram with a phone number", {"contact": "Telegram @goldenhr / 012 345 678"}),
    ("attendance bonus", {"description": "Attendance bonus $10, overtime paid."}),
    ("head count and years of experience", {"description": "Need 12+ workers, 5-10 years experience welcome."}),
    ("pay written as Pay:", {"description": "Pay: $300 a month, overtime paid.", "salary_amount": None}),
    (
        "salary negotiable, well described",
        {
            "description": "Cleaner for an office building in Toul Kork, Monday to Saturday. Salary negotiable.",
            "salary_amount": None,
            "salary_currency": None,
            "salary_period": None,
        },
    ),
]


@pytest.mark.parametrize(("name", "changes"), TRAPS, ids=[trap[0] for trap in TRAPS])
def test_innocent_wording_stays_low(name: str, changes: dict[str, Any]) -> None:
    assessment = assess(**changes)
    assert assessment.risk is Risk.LOW, (name, assessment.reasons)
    assert not {"fee_charged", "documents_retained", "abroad_unlicensed", "abroad_licensed"} & set(assessment.reasons)


def test_khmer_zero_width_spaces_and_subscript_variants_do_not_hide_terms() -> None:
    assessment = assess(description="ត្រូវ\u200bបង់\u200bប្រាក់កក់ ផ្ដល់\u200bជូន")
    assert "fee_charged" in assessment.reasons


# ------------------------------------------------------------------------------- licensed agencies


def test_operators_can_replace_the_agency_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = Listing.from_dict(
        {
            **BASE,
            "title": "Workers for Korea",
            "employer_name": "New Horizon Manpower",
            "employer_kind": "agency",
            "licence_no": "MLVT-1200",
            "location": "abroad: South Korea",
        }
    )
    assert screen(listing).risk is Risk.HIGH  # not in the shipped list

    csv_file = tmp_path / "agencies.csv"
    csv_file.write_text("licence_no,name\nMLVT-1200,New Horizon Manpower\n", encoding="utf-8")
    assert screen(listing, LicensedAgencies.from_csv(csv_file)).reasons == ("abroad_licensed",)

    monkeypatch.setenv(AGENCIES_ENV, str(csv_file))
    assert screen(listing).reasons == ("abroad_licensed",)


def test_agency_list_without_licence_column_is_rejected(tmp_path: Path) -> None:
    csv_file = tmp_path / "agencies.csv"
    csv_file.write_text("number,agency\n1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="licence_no"):
        LicensedAgencies.from_csv(csv_file)


def test_shipped_list_has_the_sample_agency() -> None:
    agencies = LicensedAgencies.default()
    assert "MLVT-0473" in agencies
    assert "mlvt ០៤៧៣" in agencies


# ------------------------------------------------------------------------------------------ input


def test_missing_field_is_named() -> None:
    record = dict(BASE)
    del record["sector"]
    with pytest.raises(ListingError) as info:
        Listing.from_dict(record)
    assert info.value.field == "sector"


@pytest.mark.parametrize(
    ("field", "value"), [("salary_amount", "a lot"), ("min_age", 15.5), ("title", None), ("night_work", "yes")]
)
def test_malformed_field_is_named(field: str, value: Any) -> None:
    with pytest.raises(ListingError) as info:
        Listing.from_dict({**BASE, field: value})
    assert info.value.field == field


def test_unknown_sector_is_screened_as_other() -> None:
    assert assess(sector="beauty salon", salary_amount=900).reasons == ("pay_far_above_norm",)


# -------------------------------------------------------------------------------------------- CLI


def _listing(listing_id: str, **changes: Any) -> str:
    return json.dumps({"id": listing_id, **BASE, **changes}, ensure_ascii=False)


def test_cli_screens_each_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "listings.jsonl"
    source.write_text(
        "\n".join(
            [
                _listing("a1"),
                _listing("a2", description="ត្រូវបង់ប្រាក់កក់ ១០០ ដុល្លារ", location="abroad: Malaysia"),
                "",
                _listing("a3", employer_name=""),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["screen", str(source)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0] == {"id": "a1", "risk": "low", "reasons": []}
    assert out[1]["id"] == "a2" and out[1]["risk"] == "high"
    assert {"fee_charged", "abroad_unlicensed", "abroad_with_fees"} <= set(out[1]["reasons"])
    assert out[2] == {"id": "a3", "risk": "medium", "reasons": ["no_employer_name"]}


def test_cli_reports_bad_lines_and_screens_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(_listing("b3"))
    del record["contact"]
    source = tmp_path / "listings.jsonl"
    source.write_text(
        "\n".join([_listing("b1"), "{not json", json.dumps(record), _listing("b4", min_age=13)]) + "\n",
        encoding="utf-8",
    )
    assert main(["screen", str(source)]) != 0
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["id"] for line in out] == ["b1", "b4"]
    assert out[1]["risk"] == "high" and "underage" in out[1]["reasons"]
    assert "line 2" in captured.err and "invalid JSON" in captured.err
    assert "line 3" in captured.err and "contact" in captured.err


def test_cli_with_agency_list_and_explanations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agencies = tmp_path / "agencies.csv"
    agencies.write_text("licence_no,name\nMLVT-2000,Blue Sea Recruitment\n", encoding="utf-8")
    source = tmp_path / "listings.jsonl"
    source.write_text(
        _listing(
            "c1",
            employer_name="Blue Sea Recruitment",
            employer_kind="agency",
            licence_no="MLVT-2000",
            location="abroad: Japan",
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["screen", str(source), "--agencies", str(agencies), "--explain"]) == 0
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["risk"] == "medium" and line["reasons"] == ["abroad_licensed"]
    assert line["explanations"] == [REASON_EXPLANATIONS["abroad_licensed"]]


def test_cli_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["screen", str(tmp_path / "nope.jsonl")]) != 0
    assert "nope.jsonl" in capsys.readouterr().err
