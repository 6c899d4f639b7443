"""SQLAlchemy models of the domain; importing this package registers every table on ``Base.metadata``."""

from jobs_core.model.application import Application, ApplicationStatus, Experience
from jobs_core.model.audit import AuditEntry
from jobs_core.model.base import Base, Channel, Language
from jobs_core.model.billing import Invoice, InvoiceStatus, Payment, PrepaidUse, Product
from jobs_core.model.call import Call, CallAttempt, CallPurpose, CallReason, CallStatus, JobPitch
from jobs_core.model.call_request import CallRequest
from jobs_core.model.demo import DemoData
from jobs_core.model.employer import Employer, EmployerIdentity, EmployerKind, Verification
from jobs_core.model.event import Event, EventFloor, EventMark
from jobs_core.model.job import Benefit, Currency, GenderPreference, Job, JobStatus, SalaryPeriod, Sector
from jobs_core.model.moderation import Decision, ModerationDecision
from jobs_core.model.people import (
    Consent,
    Gender,
    Nomination,
    Relationship,
    Relative,
    RelativeActivity,
    Subscription,
    Worker,
)
from jobs_core.model.report import Report, ReportPriority, ReportStatus
from jobs_core.model.web import WebCount, WebKey, WebRegistration, WebSession, WebSignInCode, WebVisitor

__all__ = [
    "Application",
    "ApplicationStatus",
    "AuditEntry",
    "Base",
    "Benefit",
    "Call",
    "CallAttempt",
    "CallPurpose",
    "CallReason",
    "CallRequest",
    "CallStatus",
    "Channel",
    "Consent",
    "Currency",
    "Decision",
    "DemoData",
    "Employer",
    "EmployerIdentity",
    "EmployerKind",
    "Event",
    "EventFloor",
    "EventMark",
    "Experience",
    "Gender",
    "GenderPreference",
    "Invoice",
    "InvoiceStatus",
    "Job",
    "JobPitch",
    "JobStatus",
    "Language",
    "ModerationDecision",
    "Nomination",
    "Payment",
    "PrepaidUse",
    "Product",
    "Relationship",
    "Relative",
    "RelativeActivity",
    "Report",
    "ReportPriority",
    "ReportStatus",
    "SalaryPeriod",
    "Sector",
    "Subscription",
    "Verification",
    "WebCount",
    "WebKey",
    "WebRegistration",
    "WebSession",
    "WebSignInCode",
    "WebVisitor",
    "Worker",
]
