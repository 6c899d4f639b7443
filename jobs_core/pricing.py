"""What a listing costs, as data the operator writes (a TOML prices file), and who does not pay.

    currency = "USD"                  # what invoices are issued in: USD or KHR
    [listing]                         # one listing, published for its usual 30 days
    USD = "5.00"                      # dollars with cents
    KHR = 20000                       # riel, whole
    [featured_week]
    USD = "3.00"
    KHR = 12000
    [[bundle]]
    name = "five"
    listings = 5
    USD = "20.00"
    KHR = 80000
    [free]
    kinds = ["ngo", "cooperative"]    # employer kinds that never pay (employer, agency, ngo, cooperative)
    verified_only = true              # ... once the moderators verified them
    employers = [12, 40]              # these employers never pay (NGOs, cooperatives the operator names)
    monthly_quota = 1                 # listings each employer publishes free per Phnom Penh month

Amounts are kept in integer minor units: USD cents, KHR riel. With no prices file nothing is charged.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jobs_core.model import Currency, Employer, EmployerKind, Verification

KIND_VALUES = tuple(kind.value for kind in EmployerKind)

# USD has cents; the riel has no coins in use, so a KHR amount is whole riel.
MINOR_DIGITS = {Currency.USD: 2, Currency.KHR: 0}


class PricesError(ValueError):
    """The prices file cannot be used; the message names what is wrong, in one line."""


@dataclass(frozen=True)
class Money:
    currency: Currency
    minor: int  # cents or riel

    def major(self) -> Decimal:
        return Decimal(self.minor).scaleb(-MINOR_DIGITS[self.currency])

    def __str__(self) -> str:
        if self.currency is Currency.USD:
            return f"{self.major():,.2f} USD"
        return f"{self.minor:,} KHR"


def to_minor(currency: Currency, value: object, where: str) -> int:
    """ "5.00" (USD) → 500; 20000 (KHR) → 20000; anything else is a PricesError naming ``where``."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PricesError(f"{where}: {value!r} is not an amount") from None
    minor = amount.scaleb(MINOR_DIGITS[currency])
    if not amount.is_finite() or minor != minor.to_integral_value() or minor <= 0:
        digits = "dollars with at most 2 decimals" if currency is Currency.USD else "whole riel"
        raise PricesError(f"{where}: {value!r} is not a positive amount in {digits}")
    return int(minor)


@dataclass(frozen=True)
class Bundle:
    name: str
    listings: int
    prices: dict[Currency, int]


@dataclass(frozen=True)
class Prices:
    currency: Currency = Currency.USD
    listing: dict[Currency, int] = field(default_factory=dict)
    featured_week: dict[Currency, int] = field(default_factory=dict)
    bundles: tuple[Bundle, ...] = ()
    free_kinds: frozenset[str] = frozenset()
    free_verified_only: bool = True
    free_employers: frozenset[int] = frozenset()
    monthly_quota: int = 0

    def listing_price(self) -> Money | None:
        minor = self.listing.get(self.currency)
        return Money(self.currency, minor) if minor else None

    def price_in(self, currency: Currency) -> Money | None:
        minor = self.listing.get(currency)
        return Money(currency, minor) if minor else None

    def is_free_for(self, employer: Employer) -> bool:
        """Employers the operator chose not to charge, whatever they post."""
        if employer.id in self.free_employers:
            return True
        if employer.kind.value in self.free_kinds:
            return not self.free_verified_only or employer.verification is Verification.VERIFIED
        return False


def _prices(table: Any, where: str) -> dict[Currency, int]:
    if not isinstance(table, dict):
        raise PricesError(f"{where}: expected a table with USD and/or KHR")
    found = {}
    for key, value in table.items():
        if key in ("name", "listings"):
            continue
        try:
            currency = Currency(key)
        except ValueError:
            raise PricesError(f"{where}: {key!r} is not a currency (USD or KHR)") from None
        found[currency] = to_minor(currency, value, f"{where}.{key}")
    return found


def parse_prices(data: dict[str, Any]) -> Prices:
    try:
        currency = Currency(str(data.get("currency", "USD")))
    except ValueError:
        raise PricesError(f"currency: {data.get('currency')!r} is not USD or KHR") from None
    listing = _prices(data.get("listing", {}), "listing")
    if listing and currency not in listing:
        raise PricesError(f"listing: no {currency.value} price, and invoices are issued in {currency.value}")
    bundles = []
    for n, table in enumerate(data.get("bundle", []), start=1):
        listings = table.get("listings") if isinstance(table, dict) else None
        if not isinstance(listings, int) or listings < 1:
            raise PricesError(f"bundle {n}: listings must be a whole number, 1 or more")
        bundles.append(Bundle(str(table.get("name") or f"bundle {n}"), listings, _prices(table, f"bundle {n}")))
    free = data.get("free", {})
    if not isinstance(free, dict):
        raise PricesError("free: expected a table")
    kinds = free.get("kinds", [])
    if not isinstance(kinds, list) or not all(k in KIND_VALUES for k in kinds):
        raise PricesError(f"free.kinds: expected a list of employer kinds ({', '.join(KIND_VALUES)})")
    employers = free.get("employers", [])
    if not isinstance(employers, list) or not all(isinstance(e, int) for e in employers):
        raise PricesError("free.employers: expected a list of employer numbers, e.g. [12, 40]")
    quota = free.get("monthly_quota", 0)
    if not isinstance(quota, int) or quota < 0:
        raise PricesError("free.monthly_quota: expected a whole number, 0 or more")
    return Prices(
        currency=currency,
        listing=listing,
        featured_week=_prices(data.get("featured_week", {}), "featured_week"),
        bundles=tuple(bundles),
        free_kinds=frozenset(kinds),
        free_verified_only=bool(free.get("verified_only", True)),
        free_employers=frozenset(employers),
        monthly_quota=quota,
    )


def load_prices(path: Path) -> Prices:
    try:
        with path.open("rb") as file:
            return parse_prices(tomllib.load(file))
    except OSError as error:
        raise PricesError(f"cannot read it ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise PricesError(f"not TOML ({error})") from None
