"""Employers: their menu, registering a company question by question, or confirming one typed on the website."""

from __future__ import annotations

from functools import wraps

from conversations.flows.walks import _add_navigation
from conversations.i18n import N_
from conversations.pickers import back_button, pick_province, province_from
from conversations.replies import AskPhone, Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.company import company_name, company_phone, licence_number
from jobs_core.errors import NotAllowed
from jobs_core.model import Channel, Employer, EmployerKind, Verification, WebRegistration
from jobs_core.phones import display_phone
from jobs_core.services import employers

KINDS = {
    "employer": N_("A company or employer"),
    "agency": N_("A licensed recruitment agency"),
    # Kinds of their own so an operator can choose not to charge them (the prices file's free.kinds).
    "ngo": N_("An NGO"),
    "cooperative": N_("A cooperative"),
}


async def _employer_or_register(t: Turn) -> Employer | None:
    employer = await t.employer()
    if employer is None:
        t.say(t._("First register your company."))
    return employer


# ------------------------------------------------------------------------------------------------ menu


async def employer_menu(t: Turn, args: list[str]) -> str:
    """Employers: register first, then post jobs and follow listings."""
    _ = t._
    t.started = True
    employer = await t.employer()
    if employer is None:
        t.data = {}
        t.say(_("Welcome! Register your company first. Moderators check every company and every job."))
        return await STEPS["reg.name"].ask(t)  # the wrapped question: with its Cancel button
    status = {
        Verification.UNVERIFIED: _("waiting for verification"),
        Verification.VERIFIED: _("verified ✅"),
        Verification.REJECTED: _("not approved"),
    }[employer.verification]
    t.say(
        f"🏢 {employer.name} · {status}",
        (
            (Button(_("📝 Post a job"), "post"),),
            (Button(_("📋 My listings"), "listings"),),
            *(((Button(_("🎟 Prepaid listings"), "bnd"),),) if t.deps.billing and t.deps.billing.prices.bundles else ()),
            (back_button(t),),
        ),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ register


async def ask_company_name(t: Turn) -> str:
    """Company name?"""
    t.say(t._("What is the name of your company?"))
    return "reg.name"


async def take_company_name(t: Turn) -> str:
    """The name → a contact phone."""
    t.data["name"] = company_name(t.require_text())
    return await ask_company_phone(t)


async def ask_company_phone(t: Turn) -> str:
    """Contact phone?"""
    t.add(AskPhone(t._("What phone number can workers and moderators call? For example 012 345 678.")))
    return "reg.phone"


async def take_company_phone(t: Turn) -> str:
    """A valid Cambodian number → the province."""
    raw = t.incoming.contact_phone or t.require_text(t._("Please type the phone number, for example 012 345 678."))
    t.data["phone"] = company_phone(raw)
    return await ask_company_province(t)


async def ask_company_province(t: Turn) -> str:
    """Where is the company?"""
    pick_province(t, t._("In which province is your company?"))
    return "reg.province"


async def take_company_province(t: Turn) -> str:
    """The province → employer or agency."""
    t.data["province"] = province_from(t)
    return await ask_company_kind(t)


async def ask_company_kind(t: Turn) -> str:
    """Employer or recruitment agency?"""
    t.say(t._("Are you an employer or a recruitment agency?"), t.choices([(t._(v), k) for k, v in KINDS.items()], 1))
    return "reg.kind"


async def take_company_kind(t: Turn) -> str:
    """Employer → registered; agency → its licence number."""
    if t.choice not in KINDS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["kind"] = t.choice
    if t.choice == "agency":
        return await ask_licence(t)
    return await _register(t)


async def ask_licence(t: Turn) -> str:
    """The agency's licence number?"""
    t.say(t._("What is your licence number from the Ministry of Labour?"))
    return "reg.licence"


async def take_licence(t: Turn) -> str:
    """The licence number → registered."""
    t.data["licence"] = licence_number(t.require_text(), EmployerKind.AGENCY)
    return await _register(t)


async def _register(t: Turn) -> str:
    if await t.employer() is not None:  # registered meanwhile (another device, an old conversation)
        return await employer_menu(t, [])
    d = t.data
    await employers.register_employer(
        employers.RegisterEmployer(
            name=d["name"],
            phone=d["phone"],
            province=d["province"],
            kind=d["kind"],
            licence_no=d.get("licence"),
            channel=t.incoming.channel,
            external_id=t.incoming.user_id,
        ),
        t.uow,
    )
    t.say(
        t._("Thank you! {name} is registered. Our moderators will check it. You can post a job now.").format(
            name=d["name"]
        ),
        ((Button(t._("📝 Post a job"), "post"),), (back_button(t),)),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ from the website

WEB_REGISTRATION = "reg.web"
# Why a website registration link cannot be used, in the person's words (then the employer menu follows).
LINK_PROBLEMS = {
    employers.LINK_USED: N_("This registration link was already used. Each link works once."),
    employers.LINK_EXPIRED: N_(
        "This registration link has expired: it works for 24 hours. Please fill in the form on the website again."
    ),
    employers.LINK_UNKNOWN: N_("This registration link is not valid. Please check it, or register here."),
}


def _already_registered(t: Turn, employer: Employer | None) -> None:
    name = employer.name if employer is not None else ""
    t.say(
        t._("This Telegram account is already registered for {name}. Nothing was changed.").format(name=name)
        if name
        else t._("This Telegram account is already registered for a company. Nothing was changed.")
    )


async def web_registration(t: Turn, token: str) -> str:
    """``/start reg_<token>``: a company typed on the website's form, shown with one Confirm button. Whoever
    confirms becomes the company's account (the website cannot know anyone's Telegram account)."""
    t.started = True
    if t.channel is not Channel.TELEGRAM:
        # The website's sign-in codes go to the company's Telegram chat: a company confirmed elsewhere could
        # never sign in there.
        t.say(t._("Please open this link in Telegram: the company is confirmed there."), ((back_button(t),),))
        return IDLE
    employer = await t.employer()
    if employer is not None:  # nothing is overwritten: the company they have stays theirs
        _already_registered(t, employer)
        return await employer_menu(t, [])
    try:
        registration = await employers.pending_registration(t.reads, token)
    except NotAllowed as exc:
        t.say(t._(LINK_PROBLEMS.get(exc.reason, LINK_PROBLEMS[employers.LINK_UNKNOWN])))
        return await employer_menu(t, [])
    t.data = {"registration": registration.id}
    return await STEPS[WEB_REGISTRATION].ask(t)  # the wrapped question: with its Cancel button


async def ask_web_registration(t: Turn) -> str:
    """What was typed on the website, and Confirm."""
    _ = t._
    registration = await t.session.get(WebRegistration, t.data.get("registration"))
    if registration is None:  # deleted, long after it expired
        t.say(_(LINK_PROBLEMS[employers.LINK_UNKNOWN]))
        return await employer_menu(t, [])
    lines = [
        _("Your company from the website:"),
        f"🏢 {registration.name}",
        f"📞 {display_phone(registration.contact_phone)}",
        f"📍 {geo.province(registration.province_code).name(t.language)}",
        f"👔 {_(KINDS.get(registration.kind, registration.kind))}",
    ]
    if registration.licence_no:
        lines.append(_("Licence: {number}").format(number=registration.licence_no))
    lines += [
        "",
        _(
            "Press Confirm to register this company with this Telegram account. Our moderators check every company; "
            "we will send the sign-in codes for the website to this chat."
        ),
    ]
    t.say("\n".join(lines), ((t.step_button(_("✅ Confirm"), "yes"),),))
    return WEB_REGISTRATION


async def take_web_registration(t: Turn) -> str:
    """Confirm → registered through the chat registration's own service, waiting for the moderators."""
    if t.choice != "yes":
        raise BadInput(t._("Please press Confirm, or Cancel."))
    registration = await t.session.get(WebRegistration, t.data.get("registration"))
    name = registration.name if registration is not None else ""
    try:
        await employers.confirm_registration(
            employers.ConfirmRegistration(t.data.get("registration", 0), t.incoming.channel, t.incoming.user_id),
            t.uow,
        )
    except NotAllowed as exc:
        if exc.reason == employers.ALREADY_EMPLOYER:
            _already_registered(t, await t.employer())
        else:
            t.say(t._(LINK_PROBLEMS.get(exc.reason, LINK_PROBLEMS[employers.LINK_UNKNOWN])))
        return await employer_menu(t, [])
    t.say(
        t._("Thank you! {name} is registered. Our moderators will check it. You can post a job now.").format(name=name),
        ((Button(t._("📝 Post a job"), "post"),), (back_button(t),)),
    )
    return IDLE


def _navigable(step: Step) -> Step:
    """A company question with Back and Cancel under it."""

    @wraps(step.ask)
    async def ask(t: Turn) -> str:
        result = await step.ask(t)
        _add_navigation(t, result)
        return result

    @wraps(step.take)
    async def take(t: Turn) -> str:
        result = await step.take(t)
        _add_navigation(t, result)
        return result

    return Step(ask, take)


STEPS: dict[str, Step] = {
    "reg.name": Step(ask_company_name, take_company_name),
    "reg.phone": Step(ask_company_phone, take_company_phone),
    "reg.province": Step(ask_company_province, take_company_province),
    "reg.kind": Step(ask_company_kind, take_company_kind),
    "reg.licence": Step(ask_licence, take_licence),
    WEB_REGISTRATION: Step(ask_web_registration, take_web_registration),
}
STEPS.update({name: _navigable(step) for name, step in STEPS.items() if name.startswith("reg.")})
ACTIONS = {"emp": employer_menu}
COMMANDS = {"employer": "emp"}
