"""The KHQR an invoice carries, decoded by an independent EMV reader and CRC (not the library's own code)."""

from __future__ import annotations

import binascii
import hashlib
from decimal import Decimal

import pytest
from bakong_khqr.sdk.emv_parser import EMVParser

from jobs_core.khqr import Merchant, khqr_for, qr_png
from jobs_core.model import Currency
from jobs_core.pricing import Money, PricesError, parse_prices

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")


def decode(payload: str) -> dict[str, str]:
    """EMV tag-length-value, top level."""
    tags, at = {}, 0
    while at < len(payload):
        tag, length = payload[at : at + 2], int(payload[at + 2 : at + 4])
        assert tag not in tags, f"tag {tag} twice"
        tags[tag] = payload[at + 4 : at + 4 + length]
        at += 4 + length
    assert at == len(payload)
    return tags


def crc_ok(payload: str) -> bool:
    """CRC-16/CCITT-FALSE over everything up to and including "6304", as EMVCo and KHQR require."""
    body, crc = payload[:-4], payload[-4:]
    return body.endswith("6304") and f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}" == crc


@pytest.mark.parametrize(
    ("money", "currency_code", "amount"),
    [
        (Money(Currency.USD, 500), "840", "5"),
        (Money(Currency.USD, 1250), "840", "12.5"),
        (Money(Currency.KHR, 20000), "116", "20000"),
    ],
)
def test_an_invoice_khqr_asks_for_exactly_its_amount_from_our_account(
    money: Money, currency_code: str, amount: str
) -> None:
    code = khqr_for(MERCHANT, money, "BP-1A2B3C4D")
    tags = decode(code.payload)
    assert tags["00"] == "01"  # payload format
    assert tags["01"] == "12"  # dynamic: one payment, an amount in it
    assert decode(tags["29"])["00"] == "bongpheak@aclb"  # individual Bakong account
    assert tags["53"] == currency_code
    assert Decimal(tags["54"]) == money.major() and tags["54"] == amount
    assert (tags["58"], tags["59"], tags["60"]) == ("KH", "Bong Pheak", "Phnom Penh")
    assert decode(tags["62"])["01"] == "BP-1A2B3C4D"  # the bill number is the invoice reference
    assert crc_ok(code.payload)
    assert code.md5 == hashlib.md5(code.payload.encode()).hexdigest()
    # The library's own reader agrees.
    assert EMVParser(code.payload).get("54") == amount


def test_a_changed_payload_fails_the_crc() -> None:
    payload = khqr_for(MERCHANT, Money(Currency.USD, 500), "BP-1").payload
    assert not crc_ok(payload.replace("5403", "5404").replace("54015", "54016"))


def test_the_qr_code_is_a_png() -> None:
    png = qr_png(khqr_for(MERCHANT, Money(Currency.KHR, 20000), "BP-1").payload)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_prices_are_read_in_minor_units() -> None:
    prices = parse_prices(
        {
            "currency": "KHR",
            "listing": {"USD": "5.00", "KHR": 20000},
            "featured_week": {"USD": "3"},
            "bundle": [{"name": "five", "listings": 5, "USD": "20.00", "KHR": 80000}],
            "free": {"kinds": ["employer"], "employers": [4], "monthly_quota": 1},
        }
    )
    assert prices.listing == {Currency.USD: 500, Currency.KHR: 20000}
    assert prices.listing_price() == Money(Currency.KHR, 20000)
    assert prices.featured_week == {Currency.USD: 300}
    assert prices.bundles[0].prices == {Currency.USD: 2000, Currency.KHR: 80000}
    assert str(Money(Currency.USD, 500)) == "5.00 USD" and str(Money(Currency.KHR, 20000)) == "20,000 KHR"


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"listing": {"USD": "5.001"}}, "listing.USD"),
        ({"listing": {"KHR": "200.5"}, "currency": "KHR"}, "listing.KHR"),
        ({"listing": {"EUR": 5}}, "EUR"),
        ({"listing": {"USD": -5}}, "listing.USD"),
        ({"listing": {"KHR": 20000}}, "no USD price"),
        ({"currency": "THB"}, "currency"),
        ({"free": {"kinds": ["worker"]}}, "free.kinds"),
        ({"free": {"monthly_quota": -1}}, "free.monthly_quota"),
        ({"bundle": [{"listings": 0, "USD": 1}]}, "bundle 1"),
    ],
)
def test_a_bad_prices_file_is_named_in_one_line(data: dict[str, object], named: str) -> None:
    with pytest.raises(PricesError, match=named.replace(".", r"\.")) as caught:
        parse_prices(data)
    assert "\n" not in str(caught.value)
