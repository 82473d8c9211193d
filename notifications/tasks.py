"""The outbox's Celery tasks: thin, they take ids and call notifications.delivery."""

from celery import shared_task
from celery.signals import worker_process_shutdown

from notifications import delivery


@shared_task(bind=True, max_retries=delivery.MAX_ATTEMPTS, acks_late=True)
def deliver_email_task(self, email_id):
    try:
        delivery.email_deliver(email_id=email_id)
    except delivery.TemporaryDeliveryError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in.total_seconds()) from None


@shared_task(acks_late=True)
def deliver_emails_task(email_ids):
    """Rows queued in bulk: each is delivered by its own task, so that retries, back-off
    and time limits stay per email."""
    for email_id in email_ids:
        deliver_email_task.delay(email_id)


@shared_task
def requeue_stale_emails_task():
    return delivery.email_requeue_stale()


@worker_process_shutdown.connect
def close_mail_connection(**kwargs):
    delivery.mail_connection_close()
