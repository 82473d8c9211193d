"""The outbox's Celery tasks: thin, they take ids and call notifications.delivery."""

from celery import shared_task
from celery.signals import worker_process_shutdown

from notifications import delivery


@shared_task(bind=True, max_retries=delivery.MAX_ATTEMPTS, acks_late=True)
def deliver_email_task(self, email_id):
    """Deliver a batch of due rows over one connection, this row among them (unless
    another worker's batch took it: then this task finds it claimed or sent). A row
    put back with a back-off is tried again then: this task's own row by a retry of
    this task, another row by a task of its own."""
    postponed = delivery.email_deliver_due(email_id=email_id)
    own = postponed.pop(email_id, None)
    for other_id, exc in postponed.items():
        deliver_email_task.apply_async((other_id,), countdown=exc.retry_in.total_seconds())
    if own is not None:
        raise self.retry(exc=own, countdown=own.retry_in.total_seconds())


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
