"""Every lifecycle's allowed and refused transitions, as the domain enforces them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from jobs_core.errors import IllegalTransition
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Consent,
    Employer,
    Invoice,
    InvoiceStatus,
    Job,
    JobStatus,
    Report,
    ReportStatus,
    Verification,
    Worker,
)

AT = datetime(2026, 3, 10, tzinfo=UTC)

JOB_ALLOWED = {
    (JobStatus.DRAFT, JobStatus.PENDING_REVIEW),
    (JobStatus.DRAFT, JobStatus.WITHDRAWN),
    (JobStatus.PENDING_REVIEW, JobStatus.PUBLISHED),
    (JobStatus.PENDING_REVIEW, JobStatus.REJECTED),
    (JobStatus.PENDING_REVIEW, JobStatus.CHANGES_REQUESTED),
    (JobStatus.PENDING_REVIEW, JobStatus.WITHDRAWN),
    (JobStatus.CHANGES_REQUESTED, JobStatus.PENDING_REVIEW),
    (JobStatus.CHANGES_REQUESTED, JobStatus.WITHDRAWN),
    (JobStatus.PUBLISHED, JobStatus.FILLED),
    (JobStatus.PUBLISHED, JobStatus.EXPIRED),
    (JobStatus.PUBLISHED, JobStatus.WITHDRAWN),
    # A report of fees, kept documents or abuse suspends; upheld, the listing comes down (rejected).
    (JobStatus.PUBLISHED, JobStatus.SUSPENDED),
    (JobStatus.PUBLISHED, JobStatus.REJECTED),
    (JobStatus.SUSPENDED, JobStatus.PUBLISHED),
    (JobStatus.SUSPENDED, JobStatus.REJECTED),
    (JobStatus.SUSPENDED, JobStatus.WITHDRAWN),
    (JobStatus.SUSPENDED, JobStatus.FILLED),
    (JobStatus.SUSPENDED, JobStatus.EXPIRED),
    # Payments on: approved, published once its invoice is paid; the employer may withdraw it meanwhile.
    (JobStatus.PENDING_REVIEW, JobStatus.AWAITING_PAYMENT),
    (JobStatus.AWAITING_PAYMENT, JobStatus.PUBLISHED),
    (JobStatus.AWAITING_PAYMENT, JobStatus.WITHDRAWN),
    (JobStatus.AWAITING_PAYMENT, JobStatus.REJECTED),
}
INVOICE_ALLOWED = {
    (InvoiceStatus.OPEN, InvoiceStatus.PAID),
    (InvoiceStatus.OPEN, InvoiceStatus.EXPIRED),
    (InvoiceStatus.OPEN, InvoiceStatus.CANCELLED),
    (InvoiceStatus.EXPIRED, InvoiceStatus.PAID),  # a payment that arrives just after our time ran out
    (InvoiceStatus.PAID, InvoiceStatus.REFUND_DUE),
    (InvoiceStatus.PAID, InvoiceStatus.REFUNDED),
    (InvoiceStatus.REFUND_DUE, InvoiceStatus.REFUNDED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(InvoiceStatus, InvoiceStatus)))
def test_invoice_lifecycle(current: InvoiceStatus, target: InvoiceStatus) -> None:
    invoice = Invoice(status=current)
    if (current, target) in INVOICE_ALLOWED:
        invoice.move_to(target, AT)
        assert invoice.status is target
    else:
        with pytest.raises(IllegalTransition):
            invoice.move_to(target, AT)
        assert invoice.status is current


@pytest.mark.parametrize(("current", "target"), list(itertools.product(JobStatus, JobStatus)))
def test_job_lifecycle(current: JobStatus, target: JobStatus) -> None:
    job = Job(status=current)
    if (current, target) in JOB_ALLOWED:
        job.move_to(target, AT)
        assert job.status is target
    else:
        with pytest.raises(IllegalTransition) as refused:
            job.move_to(target, AT)
        assert job.status is current
        assert refused.value.current == current.value and refused.value.target == target.value


def test_publishing_and_closing_stamp_the_time() -> None:
    job = Job(status=JobStatus.PENDING_REVIEW)
    job.move_to(JobStatus.PUBLISHED, AT)
    assert job.published_at == AT
    job.move_to(JobStatus.FILLED, AT)
    assert job.closed_at == AT


def test_a_listing_back_from_a_suspension_keeps_its_publication_date() -> None:
    job = Job(status=JobStatus.PENDING_REVIEW)
    job.move_to(JobStatus.PUBLISHED, AT)
    job.move_to(JobStatus.SUSPENDED, datetime(2026, 3, 11, tzinfo=UTC))
    job.move_to(JobStatus.PUBLISHED, datetime(2026, 3, 12, tzinfo=UTC))
    assert job.published_at == AT


CONSENT_ALLOWED = {
    (Consent.PENDING, Consent.CONSENTED),
    (Consent.PENDING, Consent.DECLINED),
    (Consent.PENDING, Consent.OPTED_OUT),
    (Consent.DECLINED, Consent.CONSENTED),
    (Consent.DECLINED, Consent.OPTED_OUT),
    (Consent.CONSENTED, Consent.OPTED_OUT),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Consent, Consent)))
def test_consent_lifecycle_and_opt_out_is_final(current: Consent, target: Consent) -> None:
    worker = Worker(consent=current)
    if (current, target) in CONSENT_ALLOWED:
        worker.set_consent(target, AT)
        assert worker.consent is target
    else:
        with pytest.raises(IllegalTransition):
            worker.set_consent(target, AT)
        assert worker.consent is current
    assert Worker(consent=Consent.OPTED_OUT).may_be_called is False


APPLICATION_ALLOWED = {
    # A relative's application: only the worker's yes makes it new; or they decline, or the job closes.
    (ApplicationStatus.AWAITING_WORKER, ApplicationStatus.NEW),
    (ApplicationStatus.AWAITING_WORKER, ApplicationStatus.WITHDRAWN),
    (ApplicationStatus.AWAITING_WORKER, ApplicationStatus.EXPIRED),
    (ApplicationStatus.NEW, ApplicationStatus.SEEN),
    (ApplicationStatus.NEW, ApplicationStatus.WITHDRAWN),
    (ApplicationStatus.SEEN, ApplicationStatus.CONTACTED),
    (ApplicationStatus.SEEN, ApplicationStatus.NOT_HIRED),
    (ApplicationStatus.SEEN, ApplicationStatus.WITHDRAWN),
    (ApplicationStatus.CONTACTED, ApplicationStatus.HIRED),
    (ApplicationStatus.CONTACTED, ApplicationStatus.NOT_HIRED),
    (ApplicationStatus.CONTACTED, ApplicationStatus.WITHDRAWN),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ApplicationStatus, ApplicationStatus)))
def test_application_lifecycle(current: ApplicationStatus, target: ApplicationStatus) -> None:
    application = Application(status=current)
    if (current, target) in APPLICATION_ALLOWED:
        application.move_to(target, AT)
        assert application.status is target and application.status_changed_at == AT
        confirmed = current is ApplicationStatus.AWAITING_WORKER and target is ApplicationStatus.NEW
        assert application.confirmed_at == (AT if confirmed else None)
    else:
        with pytest.raises(IllegalTransition):
            application.move_to(target, AT)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Verification, Verification)))
def test_employer_verification(current: Verification, target: Verification) -> None:
    employer = Employer(verification=current)
    allowed = current is Verification.UNVERIFIED and target is not Verification.UNVERIFIED
    if allowed:
        employer.set_verification(target, AT)
        assert employer.verification is target
    else:
        with pytest.raises(IllegalTransition):
            employer.set_verification(target, AT)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ReportStatus, ReportStatus)))
def test_report_closing(current: ReportStatus, target: ReportStatus) -> None:
    report = Report(status=current)
    if current is ReportStatus.OPEN and target is not ReportStatus.OPEN:
        report.close(target, AT, "checked")
        assert report.status is target
    else:
        with pytest.raises(IllegalTransition):
            report.close(target, AT)
