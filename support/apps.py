from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self):
        # Registers the tasks in every process (services enqueue them by name) and
        # declares the app's email kinds.
        from support import (
            emails,  # noqa: F401
            tasks,  # noqa: F401
        )
