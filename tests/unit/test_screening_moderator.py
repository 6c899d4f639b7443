"""Screening that reads like a moderator: debt, held wages, life at sea, looks, minors, live-in work, pay
against the fields, protections that are not threats, and foreign names that are not work abroad.

Listings are written the way job posts on Facebook are: mostly Khmer, Khmer digits, amounts in words,
misspellings, zero-width spaces, and the red flag in the middle of the text.
"""

from __future__ import annotations

from typing import Any

import pytest

from conversations.flows.moderate import RISK_REASONS, reason_words
from conversations.i18n import gettext_for
from jobs_core.number_words import value_of, words_to_digits
from jobs_core.screening import REASONS, Assessment, Listing, Risk, screen
from jobs_core.screening_rules import is_khmer

HOME: dict[str, Any] = {
    "title": "ត្រូវការបុគ្គលិក",
    "description": "",
    "employer_name": "ហាងលក់ទំនិញ សុខា",
    "employer_kind": "employer",
    "licence_no": None,
    "location": "Phnom Penh",
    "sector": "retail",
    "salary_amount": None,
    "salary_currency": None,
    "salary_period": None,
    "min_age": 18,
    "max_age": 40,
    "contact": "012 345 678",
}


def assess(**changes: Any) -> Assessment:
    return screen(Listing.from_dict({**HOME, **changes}))


ZWSP = "\u200b"
# The pay fields of a listing whose text states no pay (so it is not "vague" for want of pay).
PAY = {"salary_amount": 200, "salary_currency": "USD", "salary_period": "month"}

# (name, changes, expected risk, reason codes that must be present)
CASES: list[tuple[str, dict[str, Any], Risk, set[str]]] = [
    # Debt bondage.
    (
        "km advance to the family cut from wages",
        {
            "title": "🔥ត្រូវការកម្មករកាប់អំពៅ ២០ នាក់🔥",
            "description": "ចំការអំពៅនៅខេត្តកំពង់ស្ពឺ ប្រាក់ខែ ២៥០ ដុល្លារ។ ក្រុមហ៊ុនអាចបើកលុយមុនឲ្យគ្រួសារ "
            "៥០០ ដុល្លារ ហើយកាត់ពីប្រាក់ខែរៀងរាល់ខែ។ មានកន្លែងស្នាក់នៅ។ ទាក់ទងលេខខាងក្រោម",
            "sector": "agriculture",
            "salary_amount": 250,
            "salary_currency": "USD",
            "salary_period": "month",
        },
        Risk.HIGH,
        {"debt_bondage"},
    ),
    (
        "km work until the debt is paid, misspelt, zero-width spaces",
        {
            "description": f"ឡឥដ្ឋ ត្រូវការ{ZWSP}គ្រួសារ ២ គ្រួសារ។ ឲ្យខ្ចីលុយមុន ពីរលានរៀល ធ្វើការ{ZWSP}រហូតដល់សងបុំណុលរួច ទើបអាចឈប់បាន",
            "sector": "manufacturing",
        },
        Risk.HIGH,
        {"debt_bondage"},
    ),
    (
        "en advance repaid from salary",
        {
            "title": "Farm workers needed!!",
            "description": "Rubber plantation Kratie. We give your family an advance of three hundred dollars, "
            "repaid from your salary each month. Accommodation on site.",
            "sector": "agriculture",
        },
        Risk.HIGH,
        {"debt_bondage"},
    ),
    (
        "en work until the loan is paid",
        {"description": "Brick kiln. Work until the loan is repaid."},
        Risk.HIGH,
        {"debt_bondage"},
    ),
    # Withheld wages.
    (
        "km fishing: wages only when the boat comes ashore",
        {
            "title": "ត្រូវការកម្មករនេសាទ",
            "description": "ទូកនេសាទធំ ត្រូវការកម្មករ ១០នាក់ ប្រាក់ខែ ៣០០ដុល្លារ បើកប្រាក់ខែពេលទូកចូលច្រាំង ហូបចុកលើទូក",
            "sector": "fishing",
            "location": "Koh Kong",
        },
        Risk.HIGH,
        {"wages_withheld"},
    ),
    (
        "km paid only at the end of the harvest",
        {
            "title": "ត្រូវការកម្មករបេះស្វាយ",
            "description": "ប្រាក់ឈ្នួល ប្រាំបួនម៉ឺនរៀល ក្នុងមួយសប្តាហ៍ ប៉ុន្តែបើកលុយតែពេលចប់រដូវប្រមូលផល",
            "sector": "agriculture",
        },
        Risk.HIGH,
        {"wages_withheld"},
    ),
    (
        "km deposit taken from wages",
        {"description": "ធ្វើការរោងចក្រ កាត់ប្រាក់ខែ ៥០ ដុល្លារ រៀងរាល់ខែ ទុកជាប្រាក់កក់", "sector": "manufacturing"},
        Risk.HIGH,
        {"wages_withheld"},
    ),
    (
        "km leaving early loses wages",
        {"description": "កិច្ចសន្យា ១ឆ្នាំ បើឈប់មុនកិច្ចសន្យា មិនបើកប្រាក់ខែទេ", "sector": "manufacturing"},
        Risk.HIGH,
        {"wages_withheld"},
    ),
    (
        "en paid at the end of the season",
        {"description": "Cassava harvest. Salary is paid at the end of the season, food provided."},
        Risk.HIGH,
        {"wages_withheld"},
    ),
    (
        "en wages lost when leaving early",
        {"description": "6 month contract. Workers who leave early forfeit their wages."},
        Risk.HIGH,
        {"wages_withheld"},
    ),
    (
        "en part of the salary kept as a deposit",
        {"description": "10% of salary is deducted every month as a deposit, returned after 2 years."},
        Risk.HIGH,
        {"wages_withheld"},
    ),
    # Sea fishing.
    (
        "km six months at sea, no port calls, in words",
        {
            "title": "ត្រូវការកម្មករនេសាទសមុទ្រជ្រៅ",
            "description": "ចេញសមុទ្រម្តង ប្រាំមួយខែ មិនចូលច្រាំងទេ។ ប្រាក់ខែ ៣០០ ដុល្លារ",
            "sector": "fishing",
            "salary_amount": 300,
            "salary_currency": "USD",
            "salary_period": "month",
        },
        Risk.MEDIUM,
        {"sea_long_trips"},
    ),
    (
        "en long trips, pay on return",
        {
            "title": "Deckhands for trawler",
            "description": "Trips of 8 months, no port calls. Salary paid on return.",
            "sector": "fishing",
        },
        Risk.HIGH,
        {"sea_long_trips", "wages_withheld"},
    ),
    # Appearance.
    (
        "km karaoke: pretty girls 18-22, height",
        {
            "title": "ត្រូវការស្រីរត់តុ",
            "description": "ខារ៉ាអូខេ ទួលគោក ត្រូវការស្រីស្អាត អាយុ ១៨-២២ឆ្នាំ កម្ពស់ ១៥៥ ឡើង ប្រាក់ខែ ២០០ដុល្លារ+ធីប",
            "sector": "hospitality",
            "max_age": 22,
        },
        Risk.MEDIUM,
        {"appearance_demands"},
    ),
    (
        "km young women only for housework, no looks words",
        {
            "title": "ត្រូវការស្រីបម្រើ",
            "description": "ត្រូវការស្រីបម្រើតាមផ្ទះ អាយុពី ១៨ ដល់ ២៣ ឆ្នាំ ធ្វើការ ៨ម៉ោង ឈប់ថ្ងៃអាទិត្យ",
            "sector": "domestic",
        },
        Risk.MEDIUM,
        {"appearance_demands"},
    ),
    (
        "en receptionist, good looking, full body photo",
        {
            "title": "Receptionist (female)",
            "description": "Hotel in Siem Reap. Female 18-23, good-looking, send full body photo to apply.",
            "sector": "hospitality",
        },
        Risk.HIGH,
        {"body_photos", "appearance_demands"},
    ),
    (
        "km body photos",
        {"description": "សូមផ្ញើរូបថតពេញខ្លួន មកកាន់លេខខាងក្រោម", "sector": "hospitality"},
        Risk.HIGH,
        {"body_photos"},
    ),
    # Minors in the text only.
    (
        "km 16-year-olds accepted while the form says 18",
        {"description": "រោងចក្រវេចខ្ចប់ ក្មេងអាយុ ១៦ ឆ្នាំក៏ទទួល", "sector": "manufacturing", "min_age": 18},
        Risk.MEDIUM,
        {"minor_in_text"},
    ),
    (
        "km age in words on a building site",
        {
            "description": "ការដ្ឋានសំណង់ ទទួលកម្មករ អាយុ ដប់ប្រាំមួយឆ្នាំឡើង",
            "sector": "construction",
            "min_age": 18,
        },
        Risk.HIGH,
        {"minor_in_text", "minor_hazardous"},
    ),
    (
        "en under 18 OK as a guard",
        {"description": "Night guard for a warehouse. Under 18 ok with parents' letter.", "sector": "security"},
        Risk.HIGH,
        {"minor_in_text", "minor_hazardous"},
    ),
    (
        "en sixteen years old in a shop",
        {"description": "Shop assistant, sixteen years old and up can apply.", "min_age": 18},
        Risk.MEDIUM,
        {"minor_in_text"},
    ),
    # Live-in domestic work.
    (
        "km live-in maid with no day off",
        {
            "title": "ត្រូវការអ្នកបម្រើតាមផ្ទះ",
            "description": "ស៊ីផ្ទះដេកផ្ទះ ធ្វើការ ៧ថ្ងៃ/សប្តាហ៍ គ្មានថ្ងៃឈប់សម្រាក ប្រាក់ខែ ១៥០ដុល្លារ",
            "sector": "domestic",
        },
        Risk.HIGH,
        {"live_in_no_rest"},
    ),
    (
        "en live-in maid on call 24 hours",
        {"description": "Live-in maid for a family in Toul Kork, available 24 hours.", "sector": "domestic"},
        Risk.HIGH,
        {"live_in_no_rest"},
    ),
    (
        "km live-in with nothing about hours",
        {"description": "ត្រូវការអ្នកមើលក្មេង ស្នាក់នៅជាមួយម្ចាស់ផ្ទះ ប្រាក់ខែ ១៨០ ដុល្លារ", "sector": "domestic"},
        Risk.MEDIUM,
        {"live_in_hours_unstated"},
    ),
    (
        "en live-in nanny with nothing about hours",
        {"description": "Live-in nanny for a Phnom Penh family. Salary $200.", "sector": "domestic"},
        Risk.MEDIUM,
        {"live_in_hours_unstated"},
    ),
    # Pay above the norm for no-experience work, below the scam range.
    (
        "km no experience, pay in words 1.5-2.5x",
        {"description": "ហាងលក់ទូរស័ព្ទ មិនត្រូវការបទពិសោធន៍ ប្រាក់ខែ ប្រាំរយដុល្លារ", "sector": "retail"},
        Risk.MEDIUM,
        {"pay_above_norm"},
    ),
    (
        "en no exp, $350 for a maid",
        {"description": "Housekeeper, no exp needed!! salery 350$/month, 8 hours a day", "sector": "domestic"},
        Risk.MEDIUM,
        {"pay_above_norm"},
    ),
    # Text and fields disagree.
    (
        "km pay in text is not the pay field",
        {
            "description": "រោងចក្រកាត់ដេរ ត្រូវការកម្មករ ប្រាក់ខែ ៤៥០ ដុល្លារ",
            "sector": "manufacturing",
            "salary_amount": 200,
            "salary_currency": "USD",
            "salary_period": "month",
        },
        Risk.MEDIUM,
        {"pay_mismatch"},
    ),
    (
        "en daily wage in text below the monthly field",
        {
            "description": "Construction helpers. Wages: $8 per day.",
            "sector": "construction",
            "salary_amount": 320,
            "salary_currency": "USD",
            "salary_period": "month",
        },
        Risk.MEDIUM,
        {"pay_mismatch"},
    ),
    # Misspellings, Khmer digits, words and zero-width spaces before the old rules.
    (
        "en misspelt passport kept",
        {"description": "Company keeps your pasport until the contract ends."},
        Risk.HIGH,
        {"documents_retained"},
    ),
    ("en misspelt deposit", {"description": "Deposite 100$ before start work"}, Risk.HIGH, {"fee_charged"}),
    (
        "km misspelt deposit and dollars",
        {"description": f"ត្រូវ{ZWSP}បង់ប្រាក់កក ១០០ដុល្លា មុនចូលធ្វើការ"},
        Risk.HIGH,
        {"fee_charged"},
    ),
    (
        "km passport typed the spoken way",
        {"description": "ក្រុមហ៊ុនរក្សាទុកប៉ាស្ប៉័ររបស់កម្មករ"},
        Risk.HIGH,
        {"documents_retained"},
    ),
    (
        "km commission paid to a broker",
        {"description": "ត្រូវបង់កម្រៃជើងសារ ១០០ ដុល្លារ ឲ្យមេខ្យល់"},
        Risk.HIGH,
        {"fee_charged"},
    ),
    ("en misspelt Malaysia", {"description": "Factory work in Malasia, contact now"}, Risk.HIGH, {"abroad_unlicensed"}),
]


@pytest.mark.parametrize(("name", "changes", "risk", "codes"), CASES, ids=[case[0] for case in CASES])
def test_moderator_patterns(name: str, changes: dict[str, Any], risk: Risk, codes: set[str]) -> None:
    assessment = assess(**changes)
    assert assessment.risk is risk, (name, assessment.reasons)
    assert codes <= set(assessment.reasons), (name, assessment.reasons)


# Each trap sits next to a pattern above: the same words, but protecting the worker or meaning something else.
TRAPS: list[tuple[str, dict[str, Any]]] = [
    # Debt.
    (
        "en microfinance loan officer",
        {"description": "Microfinance office needs loan officers to visit clients and collect loan repayments."},
    ),
    ("en no advances, full salary", {"description": "No salary advances or loans: your full salary every month."}),
    ("km no loans, no cuts", {**PAY, "description": "ក្រុមហ៊ុនមិនឲ្យខ្ចីលុយ ហើយមិនកាត់ប្រាក់ខែកម្មករទេ"}),
    # Withheld wages.
    (
        "en paid monthly, not at season end",
        {
            "description": "Salary paid on the 10th of every month, not at the end of the season.",
            "sector": "agriculture",
        },
    ),
    ("km paid monthly, not at season end", {**PAY, "description": "បើកប្រាក់ខែរៀងរាល់ខែ មិនមែនចាំដល់ចប់រដូវទេ"}),
    ("km may leave without losing pay", {**PAY, "description": "បងប្អូនអាចឈប់ពេលណាក៏បាន ដោយមិនបាត់ប្រាក់ខែ"}),
    ("en wages never withheld", {"description": "Your wages are never withheld; paid monthly by bank transfer."}),
    # Sea.
    (
        "en day boats back every evening",
        {
            "description": "Fishing boat in Kep, day trips only, back in port every evening. Paid weekly.",
            "sector": "fishing",
        },
    ),
    (
        "km boats come back daily",
        {**PAY, "description": "ទូកនេសាទ ចេញព្រឹក ចូលច្រាំងវិញពេលល្ងាច រៀងរាល់ថ្ងៃ", "sector": "fishing"},
    ),
    # Appearance.
    (
        "en beautiful view, attractive salary, men or women",
        {
            **PAY,
            "description": "Hotel with a beautiful view needs cooks, male or female, 18-45. Attractive salary.",
            "sector": "hospitality",
        },
    ),
    (
        "km waiters of either sex, clean workplace",
        {**PAY, "description": "ត្រូវការអ្នករត់តុ ប្រុស ឬ ស្រី អាយុ ១៨-៣៥ ឆ្នាំ កន្លែងធ្វើការស្អាត", "sector": "hospitality"},
    ),
    ("en pretty good salary", {**PAY, "description": "Warehouse staff, pretty good salary, NSSF."}),
    (
        "km saleswomen with commission",
        {
            **PAY,
            "description": "ហាងទូរស័ព្ទ ត្រូវការអ្នកលក់ស្រី អាយុ ១៨-៣០ ឆ្នាំ ប្រាក់ខែ ២០០$ + កម្រៃជើងសារ",
        },
    ),
    ("en passport-size photo", {"description": "Bring a CV and a passport-size photo."}),
    ("en women of a wide age range", {"description": "Cosmetics shop needs female sales staff aged 20-40."}),
    # Minors.
    ("en no one under 18", {"description": "Must be 18 years old or older. No one under 18.", "sector": "security"}),
    ("km children not accepted", {"description": "អាយុចាប់ពី ១៨ ឆ្នាំឡើង ហាមក្មេងអាយុក្រោម ១៨ ឆ្នាំ", "sector": "construction"}),
    ("en kindergarten cook", {"description": "Kindergarten needs a cook. Children aged 3-6.", "sector": "hospitality"}),
    # Live-in.
    (
        "en live-in with hours and a day off",
        {"description": "Live-in housekeeper, 8 hours a day, Sunday off, own room.", "sector": "domestic"},
    ),
    (
        "km live-in with hours and Sunday off",
        {
            "description": "ត្រូវការអ្នកបម្រើតាមផ្ទះ ស្នាក់នៅជាមួយម្ចាស់ផ្ទះ ធ្វើការ ៨ម៉ោង ឈប់សម្រាកថ្ងៃអាទិត្យ",
            "sector": "domestic",
        },
    ),
    (
        "en restaurant open 7 days, kitchen helper",
        {
            "description": "Kitchen helper, restaurant open 7 days a week, 1 day off. Salary $200-$250.",
            "sector": "hospitality",
            "salary_amount": 220,
        },
    ),
    (
        "km not 24 hours, Sunday off",
        {
            **PAY,
            "description": "អ្នកបម្រើតាមផ្ទះ មិនតម្រូវឲ្យធ្វើការ ២៤ម៉ោងទេ ឈប់សម្រាកថ្ងៃអាទិត្យ",
            "sector": "domestic",
        },
    ),
    ("km keeps own passport", {**PAY, "description": "កម្មករ រក្សាទុកលិខិតឆ្លងដែនដោយខ្លួនឯង"}),
    ("en passport stays with you", {"description": "Your passport stays with you at all times."}),
    ("en free to leave, no penalty", {"description": "You are free to leave at any time, no penalty."}),
    ("en live-out cleaner", {"description": "House cleaner, 7am-4pm, Monday to Saturday.", "sector": "domestic"}),
    # Pay.
    (
        "en experienced welder well paid",
        {"description": "Welder with 5 years experience, $450/month.", "sector": "construction"},
    ),
    ("km no experience at the norm", {"description": "មិនត្រូវការបទពិសោធន៍ ប្រាក់ខែ ២៦០ ដុល្លារ", "sector": "manufacturing"}),
    (
        "km overtime rate is not the wage",
        {
            "description": "ប្រាក់ខែ ២១៥ ដុល្លារ ម៉ោងបន្ថែម ១.៥ ដុល្លារ/ម៉ោង",
            "sector": "manufacturing",
            "salary_amount": 215,
            "salary_currency": "USD",
            "salary_period": "month",
        },
    ),
    (
        "en pay range around the field",
        {
            "description": "Salary $220-$280 depending on skill.",
            "sector": "manufacturing",
            "salary_amount": 250,
            "salary_currency": "USD",
            "salary_period": "month",
        },
    ),
    (
        "km daily riel in text, monthly dollars in the field",
        {
            "description": "ប្រាក់ឈ្នួល បួនម៉ឺនរៀល ក្នុងមួយថ្ងៃ",
            "sector": "construction",
            "salary_amount": 250,
            "salary_currency": "USD",
            "salary_period": "month",
        },
    ),
    # Protections.
    (
        "en never deposits, own passport",
        {"description": "We never take deposits from your wages and you keep your own passport."},
    ),
    (
        "km no deposit, no cuts, no ID kept",
        {"description": "យើងមិនយកប្រាក់កក់ មិនកាត់ប្រាក់ខែ ហើយមិនរក្សាទុកអត្តសញ្ញាណប័ណ្ណរបស់បងប្អូនទេ"},
    ),
    # Brands and routes.
    (
        "en Korea BBQ restaurant at home",
        {
            "title": "Waiters for Korea BBQ restaurant",
            "description": "Korea BBQ restaurant in BKK1, Phnom Penh needs 5 waiters.",
            "sector": "hospitality",
        },
    ),
    (
        "km Malaysian food shop at home",
        {**PAY, "description": "ហាងម្ហូបម៉ាឡេស៊ី នៅផ្សារទួលទំពូង ត្រូវការអ្នករត់តុ ២ នាក់", "sector": "hospitality"},
    ),
    (
        "en Thai Express shop, Thailand-style tea",
        {"description": "Thai Express shop at Aeon needs cashiers, Thailand-style milk tea.", "salary_amount": 200},
    ),
    ("en Bangkok Bank branch at home", {"description": "Bangkok Bank Phnom Penh branch needs tellers."}),
    ("en Japan language school", {"description": "Japan language school in Sen Sok needs a receptionist."}),
    (
        "en bus driver on the Bangkok route",
        {
            "title": "Bus driver",
            "description": "Bus driver for our Phnom Penh–Bangkok route, based in Phnom Penh. Licence D required.",
            "sector": "transport",
        },
    ),
    (
        "km bus driver to Thailand, based at home",
        {
            "title": "ត្រូវការអ្នកបើកបរ",
            "description": "ក្រុមហ៊ុនឡានក្រុង ត្រូវការអ្នកបើកបរ ខ្សែភ្នំពេញ-បាងកក ប្រទេសថៃ ប្រចាំការនៅភ្នំពេញ",
            "sector": "transport",
        },
    ),
]


@pytest.mark.parametrize(("name", "changes"), TRAPS, ids=[trap[0] for trap in TRAPS])
def test_moderator_traps_stay_low(name: str, changes: dict[str, Any]) -> None:
    assessment = assess(**changes)
    assert assessment.risk is Risk.LOW, (name, assessment.reasons)


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "Korean restaurant job in Seoul, Korea. Fee $500.", "sector": "hospitality"},
        {"description": "Drivers for a Thai transport company, work in Bangkok, Thailand.", "sector": "transport"},
        {"description": "ត្រូវការអ្នកបើកឡានដឹកទំនិញ ធ្វើការនៅប្រទេសថៃ", "sector": "transport"},
        {"description": "ត្រូវការកម្មករ ធ្វើការរោងចក្រនៅបាងកក", "sector": "manufacturing"},
        {"description": "Seafood processing in Mahachai, free transport.", "sector": "manufacturing"},
        {"description": "Truck driver based in Bangkok, deliveries around Chonburi.", "sector": "transport"},
    ],
)
def test_work_abroad_behind_a_brand_or_a_route_is_still_abroad(changes: dict[str, Any]) -> None:
    assert "abroad_unlicensed" in assess(**changes).reasons


def test_every_new_reason_is_exercised() -> None:
    new = {
        "debt_bondage",
        "wages_withheld",
        "body_photos",
        "live_in_no_rest",
        "pay_above_norm",
        "pay_mismatch",
        "minor_in_text",
        "sea_long_trips",
        "appearance_demands",
        "live_in_hours_unstated",
    }
    assert new <= set(REASONS)
    exercised = set().union(*(codes for *_, codes in CASES))
    assert new <= exercised


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("ប្រាំរយ", 500),
        ("មួយពាន់ប្រាំរយ", 1500),
        ("ពីរម៉ឺនប្រាំពាន់", 25000),
        ("មួយរយហាសិបពាន់", 150000),
        ("ដប់ប្រាំមួយ", 16),
        ("5រយ", 500),
        ("two hundred and fifty", 250),
        ("one thousand five hundred", 1500),
    ],
)
def test_numbers_in_words(words: str, value: int) -> None:
    assert value_of(words) == value


def test_words_are_read_as_numbers_only_where_they_count_something() -> None:
    assert words_to_digits("ប្រាក់ខែ ប្រាំរយដុល្លារ") == "ប្រាក់ខែ 500 ដុល្លារ"
    assert words_to_digits("salary five hundred dollars") == "salary 500 dollars"
    assert words_to_digits("អាយុ ដប់ប្រាំមួយឆ្នាំ") == "អាយុ 16 ឆ្នាំ"
    # "one day", ក្នុងមួយថ្ងៃ and សែន ("very") stay words.
    for text in ("one day off", "ក្នុងមួយថ្ងៃ", "ការងារ សែនស្រួល", "ten of us"):
        assert words_to_digits(text) == text


@pytest.mark.parametrize("code", sorted(REASONS))
def test_moderators_read_every_reason_in_khmer_and_english(code: str) -> None:
    english = reason_words(code, gettext_for("en"))
    khmer = reason_words(code, gettext_for("km"))
    assert english != code and code in RISK_REASONS
    assert khmer != english and is_khmer(khmer)


def test_no_experience_pay_above_the_norm_anchors_a_scam_type_job() -> None:
    assessment = assess(
        title="ត្រូវការបុគ្គលិកវាយអក្សរ",
        description="មិនត្រូវការបទពិសោធន៍ ប្រាក់ខែ បួនរយហាសិបដុល្លារ ស្នាក់នៅឥតគិតថ្លៃ",
        sector="other",
    )
    assert assessment.risk is Risk.HIGH
    assert {"scam_compound", "pay_above_norm"} <= set(assessment.reasons)
