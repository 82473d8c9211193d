"""The support app's Celery tasks: thin, they call support.services."""

from celery import shared_task

from support import services


@shared_task
def auto_close_requests_task():
    """Requests waiting for the customer for 14 days (beat)."""
    return {"closed": services.support_requests_auto_close()}
