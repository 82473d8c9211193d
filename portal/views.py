import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

log = logging.getLogger(__name__)


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        log.exception("Health check: database unreachable")
        return False


def _broker_ok():
    if settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory://"):
        return True
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        log.exception("Health check: broker unreachable")
        return False


@never_cache
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **{k: "ok" if v else "down" for k, v in checks.items()}},
        status=200 if healthy else 503,
    )


def bad_request(request, exception):
    """handler400: a page that says what went wrong. A body past
    DATA_UPLOAD_MAX_MEMORY_SIZE (or files past PORTAL_MAX_UPLOAD_SIZE) is a 413."""
    if isinstance(exception, RequestDataTooBig):
        status, title = 413, _("Request too large")
        message = _("What you sent is too large. Shorten the text you entered and try again.")
    elif isinstance(exception, TooManyFieldsSent):
        status, title = 400, _("Bad request")
        message = _("The form sent too many fields. Reload the page and try again.")
    else:
        status, title = 400, _("Bad request")
        message = _("This request could not be understood. Reload the page and try again.")
    return render(request, "400.html", {"title": title, "message": message, "status": status},
                  status=status)


def legal(request):
    """The legal notice: who sells, from the seller settings that invoices print."""
    return render(request, "legal.html", {
        "seller_name": settings.SELLER_NAME, "seller_address": settings.SELLER_ADDRESS,
        "seller_vat_number": settings.SELLER_VAT_NUMBER})


def help_page(request):
    return render(request, "help.html")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a page that says what to do instead of Django's bare one."""
    return render(request, "403_csrf.html", status=403)
