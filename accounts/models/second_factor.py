"""What the second factor keeps: the authenticator app (TOTP, its seed sealed), the
backup codes (hashed) and the security keys (public keys only). Nothing stored here
opens an account by itself."""

import secrets
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin
from django_otp.oath import TOTP

from notifications.secrets import bytes_open, bytes_seal

TOTP_SEED_SALT = "accounts.totp-seed"


class AuthenticatorApp(TimestampMixin, Device):
    """An authenticator app (TOTP, RFC 6238) as django-otp's TOTPDevice keeps one, but
    with its seed sealed at rest (Fernet under a key derived from SECRET_KEY,
    SECRET_KEY_FALLBACKS honoured: notifications.secrets): a copy of the database, a
    dump or the admin never shows it. The codes are computed by django-otp's TOTP; a
    time step is accepted once (`last_t`). Wrong codes are throttled per account by the
    service (accounts.services.second_factor), not per device."""

    sealed_key = models.TextField(editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @classmethod
    def seal(cls, seed: bytes) -> str:
        return bytes_seal(seed, salt=TOTP_SEED_SALT)

    @classmethod
    def new(cls, *, user, name: str, confirmed: bool = False) -> "AuthenticatorApp":
        """A new app with a fresh 20-byte seed (unsaved)."""
        return cls(user=user, name=name, confirmed=confirmed,
                   sealed_key=cls.seal(secrets.token_bytes(20)))

    @property
    def bin_key(self) -> bytes:
        """The seed, opened in memory (raises UnreadableSecrets after a key change with
        no fallback)."""
        return bytes_open(self.sealed_key, salt=TOTP_SEED_SALT)

    def verify_token(self, token) -> bool:
        try:
            token = int(token)
        except (TypeError, ValueError):
            return False
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        if not totp.verify(token, self.tolerance, self.last_t + 1):
            return False
        self.last_t, self.drift = totp.t(), totp.drift
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    @property
    def config_url(self) -> str:
        """The otpauth:// address the QR code carries (Key Uri Format)."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode({"secret": b32encode(self.bin_key).decode().rstrip("="),
                            "algorithm": "SHA1", "digits": self.digits, "period": self.step,
                            "issuer": issuer}, quote_via=quote)
        return f"otpauth://totp/{quote(label)}?{params}"


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
