"""A domain refusal (jobs_core.errors) in the person's words."""

from __future__ import annotations

from conversations.i18n import Gettext
from conversations.labels import FIELDS
from jobs_core.errors import DomainError, IllegalTransition, InvalidField, LimitReached, NotAllowed, NotFound


def error_message(exc: DomainError, _: Gettext) -> str:
    """A domain refusal in the person's words."""
    if isinstance(exc, InvalidField):
        field = _(FIELDS[exc.field]) if exc.field in FIELDS else exc.field
        messages = {
            "invalid_phone": _("That is not a valid Cambodian phone number. Please type it like 012 345 678."),
            "not_cambodian": _("Only Cambodian phone numbers can be called. Please type a number like 012 345 678."),
            "not_a_number": _("Please type a number, for example 25."),
            "too_small": _("That number is too small."),
            "too_large": _("That number is too large."),
            "too_young": _("Workers must be at least 15 years old."),
            "too_long": _("That is too long. Please make it shorter."),
            "required": _("This cannot be empty."),
            "invalid_time": _("Please type a time like 07:30."),
            "invalid_date": _("Please type a date like 2026-12-01."),
            "unknown_province": _("I do not know that province. Please choose one from the list."),
            "unknown_district": _("I do not know that district. Please choose one from the list."),
            "unknown_sector": _("Please choose a kind of work from the list."),
            "invalid_choice": _("Please choose one of the buttons."),
        }
        text = messages.get(exc.code, _("Please check this answer."))
        if exc.field == "agreed_to_calls":
            return _("We can only call your family member after they agreed. Please ask them first.")
        return f"{text} ({field})"
    if isinstance(exc, LimitReached):
        return _("You have reached today's limit of {limit}. Please try again tomorrow.").format(limit=exc.limit)
    if isinstance(exc, NotFound):
        return _("Sorry, this is no longer available.")
    if isinstance(exc, NotAllowed):
        known = {
            "this job is no longer open": _("This job is no longer open."),
            "you have already nominated this person": _("You have already added this family member."),
            "this person asked not to be contacted": _("This person asked not to be contacted."),
            "this employer was rejected by the moderators": _("Your company was not approved by the moderators."),
            "only a published listing can be featured": _("Only a published job can be featured."),
            "the listing ends before these featured weeks would": _(
                "This job ends before these featured weeks would. Choose fewer weeks."
            ),
        }
        return known.get(exc.reason, _("Sorry, this is not allowed."))
    if isinstance(exc, IllegalTransition):
        return _("This was already done, or cannot be done any more.")
    return _("Sorry, this cannot be done.")
