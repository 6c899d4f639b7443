"""Payments settings: off by default (nothing else needed); on, every missing setting is named in one line,
and a prices file that cannot be used is named with what is wrong in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bongpheak.commands import CommandError
from bongpheak.payments import billing_from
from bongpheak.settings import Settings, settings_problem
from jobs_core.model import Currency

COMPLETE = {
    "payments": True,
    "bakong_token": "token",
    "khqr_merchant_account": "bongpheak@aclb",
    "khqr_merchant_name": "Bong Pheak",
    "khqr_merchant_city": "Phnom Penh",
}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_payments_are_off_by_default_and_need_nothing() -> None:
    assert billing_from(settings()) is None


def test_missing_settings_are_named_in_one_line() -> None:
    with pytest.raises(CommandError) as raised:
        billing_from(settings(payments=True, bakong_token="t"))
    line = str(raised.value)
    assert line == (
        "PAYMENTS is on but PRICES_FILE, KHQR_MERCHANT_ACCOUNT, KHQR_MERCHANT_NAME, KHQR_MERCHANT_CITY are not set "
        "(see docs/payments.md)"
    )


def test_a_prices_file_is_read_or_named_with_its_fault(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('currency = "KHR"\n[listing]\nUSD = "5.00"\nKHR = 20000\n', encoding="utf-8")
    billing = billing_from(settings(**COMPLETE, prices_file=prices, invoice_minutes=10))
    assert billing is not None and billing.prices.listing_price() is not None
    assert billing.prices.currency is Currency.KHR and billing.lifetime.total_seconds() == 600
    prices.write_text('[listing]\nUSD = "5.001"\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"^PRICES_FILE .*listing\.USD: '5\.001' is not a positive amount"):
        billing_from(settings(**COMPLETE, prices_file=prices))
    with pytest.raises(CommandError, match="cannot read it"):
        billing_from(settings(**COMPLETE, prices_file=tmp_path / "none.toml"))


def test_bad_values_are_named() -> None:
    for values, named in (
        ({"khqr_merchant_account": "no-at-sign"}, "KHQR_MERCHANT_ACCOUNT"),
        ({"bakong_api_base_url": "ftp://bakong"}, "BAKONG_API_BASE_URL"),
        ({"invoice_minutes": 0}, "INVOICE_MINUTES=0"),
    ):
        with pytest.raises(ValidationError) as raised:
            settings(**values)
        line = settings_problem(raised.value)
        assert line is not None and line.startswith(named) and "\n" not in line
