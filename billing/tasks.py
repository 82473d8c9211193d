"""Billing's Celery tasks: thin, they take ids and call a service. Services never import
this module: they enqueue by task name (billing.services.invoices.RENDER_PDF_TASK)."""

from celery import shared_task
from django.utils import timezone

from billing.services.contacts import contact_change_process, contact_changes_expire_due
from billing.services.dunning import invoices_dun_due
from billing.services.credit_notes import credit_note_store_pdf
from billing.services.invoices import invoice_store_pdf
from billing.services.renewals import renewals_issue_due, services_expire_due


@shared_task(bind=True, max_retries=5, acks_late=True)
def render_invoice_pdf_task(self, invoice_id: int) -> None:
    try:
        invoice_store_pdf(invoice_id=invoice_id)
    except OSError as exc:  # storage full or unreachable: try again later
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from None


@shared_task(bind=True, max_retries=5, acks_late=True)
def render_credit_note_pdf_task(self, credit_note_id: int) -> None:
    try:
        credit_note_store_pdf(credit_note_id=credit_note_id)
    except OSError as exc:  # storage full or unreachable: try again later
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from None


@shared_task
def issue_renewals_task() -> int:
    return len(renewals_issue_due(now=timezone.now()))


@shared_task
def expire_services_task() -> int:
    return services_expire_due(now=timezone.now())


@shared_task(acks_late=True)
def process_contact_change_task(change_id: int) -> None:
    contact_change_process(change_id=change_id)


@shared_task
def expire_contact_changes_task() -> int:
    return contact_changes_expire_due(now=timezone.now())


@shared_task
def dun_unpaid_invoices_task() -> dict:
    return invoices_dun_due(now=timezone.now())
