"""What the second factor keeps besides django-otp's TOTP devices: the backup codes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BackupCode(models.Model):
    """One single-use backup code. Only its keyed hash is kept (the customer saw the code
    once); `used_at` is set by a conditional UPDATE, so a code works once even when two
    logins send it at the same moment."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="backup_codes", verbose_name=_("customer"))
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"],
                                               name="backup_code_user_hash_unique")]

    def __str__(self):
        return f"{self.user_id} backup code {'used' if self.used_at else 'unused'}"


class SecurityKey(models.Model):
    """A security key or passkey (WebAuthn credential) registered by the customer, named
    by them. Only public data: the credential id and its public key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="security_keys", verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=60)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.user_id} {self.name}"
