"""Security keys and passkeys (WebAuthn, with py_webauthn): register one or more, named
by the customer; use one as the second step of a login. The browser side is
static/js/webauthn.js; the challenge of each ceremony is kept in the session by the view.
A wrong or replayed assertion is throttled like a wrong code (second_factor._throttled)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING

import webauthn
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.models import BackupCode, SecurityEvent, SecurityKey
from accounts.security import security_log
from accounts.services.second_factor import (
    _backup_codes_replace,
    _notify,
    _throttled,
)
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

RP_NAME = "Customer portal"


def _descriptors(user, key_ids=None):
    keys = SecurityKey.objects.filter(user=user)
    if key_ids is not None:
        keys = keys.filter(pk__in=list(key_ids))
    return [PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(key.credential_id))
            for key in keys]


def security_key_registration_options(*, user: User, rp_id: str) -> tuple[str, str]:
    """(options as JSON for the browser, the challenge to keep in the session)."""
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=RP_NAME, user_name=user.nic_handle,
        user_id=str(user.pk).encode(), user_display_name=user.get_full_name(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(user))
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def security_key_register(*, user: User, name: str, credential: str, challenge: str,
                          rp_id: str, origin: str,
                          request: HttpRequest | None = None) -> list[str]:
    """Verify the new credential and keep it under the customer's name for it. The first
    factor of an account also gets ten backup codes (returned to be shown once)."""
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=webauthn.base64url_to_bytes(challenge),
            expected_rp_id=rp_id, expected_origin=origin)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise DomainError(_("The security key could not be registered. Please try again."),
                          field="credential", code="invalid_credential") from error
    with transaction.atomic():
        SecurityKey.objects.create(
            user=user, name=name, credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key, sign_count=verified.sign_count)
        codes = [] if BackupCode.objects.filter(user=user).exists() else _backup_codes_replace(user)
        security_log(user=user, action=SecurityEvent.Action.SECOND_FACTOR_ADDED,
                     request=request, factor="security_key", name=name)
        _notify(user=user, event="added_key", request=request, name=name)
    return codes


def security_key_authentication_options(*, user: User, rp_id: str,
                                        key_ids: Collection[int] | None = None
                                        ) -> tuple[str, str]:
    """(options as JSON for the browser, the challenge to keep in the session): any of
    the customer's keys may answer, or only those of `key_ids`."""
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, allow_credentials=_descriptors(user, key_ids),
        user_verification=UserVerificationRequirement.PREFERRED)
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def security_key_verify(*, user: User, credential: str, challenge: str, rp_id: str,
                        origin: str, request: HttpRequest | None = None,
                        where: str = "login", key_ids: Collection[int] | None = None
                        ) -> SecurityKey:
    """Check an assertion from one of the customer's keys (of `key_ids` only, when
    given); throttled with the codes."""
    now = timezone.now()
    keys = SecurityKey.objects.filter(user=user)
    if key_ids is not None:
        keys = keys.filter(pk__in=list(key_ids))

    def check():
        try:
            credential_id = json.loads(credential)["id"]
            with transaction.atomic():
                key = keys.select_for_update().filter(credential_id=credential_id).first()
                if key is None:
                    return None
                verified = webauthn.verify_authentication_response(
                    credential=credential,
                    expected_challenge=webauthn.base64url_to_bytes(challenge),
                    expected_rp_id=rp_id, expected_origin=origin,
                    credential_public_key=bytes(key.public_key),
                    credential_current_sign_count=key.sign_count)
                key.sign_count, key.last_used_at = verified.new_sign_count, now
                key.save(update_fields=["sign_count", "last_used_at"])
                return key
        except (WebAuthnException, ValueError, KeyError, TypeError):
            return None

    return _throttled(user, check, request=request, where=where)
