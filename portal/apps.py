from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.PortalAdminSite"

    def ready(self):
        super().ready()  # every installed app's admin module
        # The outbox imports no app, so its admin lives in the portal layer.
        from portal import outbox_admin  # noqa: F401
