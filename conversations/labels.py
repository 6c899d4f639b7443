"""The words for the values of the domain's enums and fields, as the chat says them (marked for translation;
tests/integration/test_vocabulary.py checks they name every value).
"""

from __future__ import annotations

from conversations.i18n import N_

# What the family member is to the relative who adds them (the IVR turns it round: see Relationship.recommender).
RELATIONSHIPS = {
    "parent": N_("My father or mother"),
    "child": N_("My son or daughter"),
    "spouse": N_("My husband or wife"),
    "sibling": N_("Brother or sister"),
    "relative": N_("Other relative"),
    "friend": N_("Friend"),
    "acquaintance": N_("Acquaintance"),
}
GENDERS = {"male": N_("Man"), "female": N_("Woman")}
JOB_GENDERS = {"any": N_("Men and women"), "male": N_("Men only"), "female": N_("Women only")}
BENEFITS = {
    "meals": N_("Meals"),
    "accommodation": N_("Accommodation"),
    "transport": N_("Transport"),
    "overtime": N_("Paid overtime"),
    "nssf": N_("NSSF social security"),
}
PERIODS = {"month": N_("per month"), "day": N_("per day"), "hour": N_("per hour"), "piece": N_("per piece")}
CONSENT = {
    "pending": N_("not asked yet: we will call to ask their permission"),
    "consented": N_("agreed to job calls"),
    "declined": N_("did not agree to job calls"),
    "opted_out": N_("asked never to be called"),
}
JOB_STATUS = {
    "draft": N_("draft"),
    "pending_review": N_("waiting for review"),
    "published": N_("published"),
    "filled": N_("filled"),
    "expired": N_("expired"),
    "withdrawn": N_("withdrawn"),
    "rejected": N_("rejected"),
    "changes_requested": N_("changes requested"),
    "suspended": N_("on hold while a report is checked"),
    "awaiting_payment": N_("approved, waiting for payment"),
}
FIELDS = {
    "name": N_("name"),
    "phone": N_("phone number"),
    "province": N_("province"),
    "kind": N_("kind of company"),
    "title": N_("job title"),
    "description": N_("description"),
    "contact": N_("contact"),
    "country": N_("country"),
    "reason": N_("reason"),
    "details": N_("details"),
    "licence_no": N_("licence number"),
    "birth_year": N_("birth year"),
    "salary_amount": N_("salary"),
    "days_per_week": N_("days per week"),
    "positions": N_("number of workers"),
    "min_age": N_("minimum age"),
    "max_age": N_("maximum age"),
    "hours_start": N_("start time"),
    "hours_end": N_("end time"),
    "start_date": N_("start date"),
}
