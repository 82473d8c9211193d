from django.apps import AppConfig
from django.db.models import CharField, EmailField
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # `nic_handle__lower=...` compiles to LOWER(nic_handle) = ..., which the
        # case-blind unique indexes on the user table can serve.
        CharField.register_lookup(Lower)
        EmailField.register_lookup(Lower)
        from accounts import emails  # noqa: F401  (declares the app's email kinds)
