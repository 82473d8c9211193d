from celery import shared_task

from notifications import services


@shared_task(bind=True, max_retries=services.MAX_ATTEMPTS, acks_late=True)
def deliver_email_task(self, email_id):
    try:
        services.email_deliver(email_id=email_id)
    except services.TemporaryDeliveryError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in.total_seconds()) from None


@shared_task(acks_late=True)
def deliver_emails_task(email_ids):
    """Rows queued in bulk: each is delivered by its own task, so that retries, back-off
    and time limits stay per email."""
    for email_id in email_ids:
        deliver_email_task.delay(email_id)


@shared_task
def requeue_stale_emails_task():
    return services.email_requeue_stale()


@shared_task
def apply_due_email_changes_task():
    """Primary-email changes nobody refused within 24 hours (and stale unconfirmed ones)."""
    from accounts.services import email_changes_abort_unconfirmed, email_changes_apply_due

    return {"applied": email_changes_apply_due(), "aborted": email_changes_abort_unconfirmed()}


@shared_task(acks_late=True)
def send_password_reset_task(attempt_id):
    from accounts.services import password_reset_send

    password_reset_send(attempt_id=attempt_id)


@shared_task(acks_late=True)
def process_recovery_request_task(recovery_id):
    from accounts.services import recovery_request_process

    recovery_request_process(recovery_id=recovery_id)


@shared_task
def requeue_password_resets_task():
    """Password-reset and account-recovery requests the broker lost."""
    from accounts.services import password_resets_requeue_stale, recovery_requests_requeue_stale

    return {"password_resets": password_resets_requeue_stale(),
            "recovery_requests": recovery_requests_requeue_stale()}
