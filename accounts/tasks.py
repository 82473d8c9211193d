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


@shared_task(acks_late=True)
def process_recovery_request_task(recovery_id):
    services.recovery_request_process(recovery_id=recovery_id)


@shared_task
def requeue_password_resets_task():
    """Password-reset and account-recovery requests the broker lost."""
    return {"password_resets": services.password_resets_requeue_stale(),
            "recovery_requests": services.recovery_requests_requeue_stale()}
