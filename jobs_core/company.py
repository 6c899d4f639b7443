"""A company's registration as people type it: name, phone, province, kind and licence number.

Read the same way wherever it is typed: one answer at a time in the chat's questions, all at once on the
website's form, and again by the service that registers the company. Each reader returns the clean value or
raises ``InvalidField`` naming its field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from jobs_core import geo
from jobs_core.errors import InvalidField
from jobs_core.model import EmployerKind
from jobs_core.phones import normalize_phone
from jobs_core.text import clean_text

T = TypeVar("T")
NAME_LENGTH = 120
LICENCE_LENGTH = 40


def company_name(raw: str | None) -> str:
    return clean_text("name", raw, max_length=NAME_LENGTH, required=True)


def company_phone(raw: str | None) -> str:
    """The phone workers and moderators call, as ``+855…``."""
    return normalize_phone(raw or "")


def company_province(raw: str | None) -> str:
    """A province's code from its code or its name (Khmer or English)."""
    return geo.province(raw or "").code


def company_kind(raw: str | None) -> EmployerKind:
    try:
        return EmployerKind(raw or "")
    except ValueError as exc:
        raise InvalidField("kind", "invalid_choice", "employer, agency, NGO or cooperative") from exc


def licence_number(raw: str | None, kind: EmployerKind) -> str | None:
    """The Ministry of Labour's licence number: a recruitment agency must give it, anyone else may."""
    licence = clean_text("licence_no", raw, max_length=LICENCE_LENGTH)
    if kind is EmployerKind.AGENCY and not licence:
        raise InvalidField("licence_no", "required", "a recruitment agency needs its licence number")
    return licence or None


@dataclass(frozen=True)
class Company:
    """A registration that passed every reader."""

    name: str
    phone: str
    province: str
    kind: EmployerKind
    licence_no: str | None = None


def check_company(typed: Mapping[str, str | None]) -> tuple[Company | None, dict[str, InvalidField]]:
    """Every field of a form at once (``name``, ``phone``, ``province``, ``kind``, ``licence_no``): the company,
    or None and each refused field's error, so a form can name all of them in one answer."""
    errors: dict[str, InvalidField] = {}

    def read(field: str, reader: Callable[[], T]) -> T | None:
        try:
            return reader()
        except InvalidField as error:
            errors[field] = error
            return None

    name = read("name", lambda: company_name(typed.get("name")))
    phone = read("phone", lambda: company_phone(typed.get("phone")))
    province = read("province", lambda: company_province(typed.get("province")))
    kind = read("kind", lambda: company_kind(typed.get("kind")))
    # Without a known kind the licence is only checked for length: whether it is required is not known yet.
    licence = read("licence_no", lambda: licence_number(typed.get("licence_no"), kind or EmployerKind.EMPLOYER))
    if errors or name is None or phone is None or province is None or kind is None:
        return None, errors
    return Company(name, phone, province, kind, licence), {}


def read_company(typed: Mapping[str, str | None]) -> Company:
    """The company, or the first refused field's ``InvalidField``."""
    company, errors = check_company(typed)
    if company is None:
        raise next(iter(errors.values()))
    return company
