from celery import shared_task

from notifications import services


@shared_task(bind=True, max_retries=services.MAX_ATTEMPTS, acks_late=True)
def deliver_email_task(self, email_id):
    try:
        services.email_deliver(email_id=email_id)
    except services.TemporaryDeliveryError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in.total_seconds()) from None


@shared_task
def requeue_stale_emails_task():
    return services.email_requeue_stale()
