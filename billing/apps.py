from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Registers the tasks in every process, the web's too: services enqueue them by
        # name, and Celery runs a registered task in place when tasks are eager (tests).
        from billing import (
            emails,  # noqa: F401  (declares the app's email kinds)
            tasks,  # noqa: F401
        )
