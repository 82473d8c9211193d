"""The sessions a customer sees on the security page: one row per logged-in browser."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserSession(models.Model):
    """What the security page lists about one session: the browser, where it was last
    seen, since when. The session itself lives in SESSION_ENGINE (database or cache):
    this row only names it by `session_key`, kept up to date when Django changes the key
    (login, password change). Written by accounts.middleware.SessionActivityMiddleware,
    at most once a minute per session."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="sessions", verbose_name=_("customer"))
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="session_user_seen_idx")]

    def __str__(self):
        return f"{self.user_id} session since {self.created_at:%Y-%m-%d %H:%M}"
