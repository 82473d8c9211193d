"""The accounts app's Celery tasks: thin, they take ids and call accounts.services."""

from celery import shared_task

from accounts import services


@shared_task
def apply_due_email_changes_task():
    """Primary-email changes nobody refused within 24 hours (and stale unconfirmed ones)."""
    return {"applied": services.email_changes_apply_due(),
            "aborted": services.email_changes_abort_unconfirmed()}


@shared_task(acks_late=True)
def send_password_reset_task(attempt_id):
    services.password_reset_send(attempt_id=attempt_id)


@shared_task
def requeue_password_resets_task():
    return services.password_resets_requeue_stale()
