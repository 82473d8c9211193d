"""Removing a factor of the second step: the authenticator app, one security key, or all
of them ("turn off"). Each removal takes, in the same step, the current password
(checked by the form: accounts.passwords, throttled) and a fresh proof from a factor
that stays: a code of the app, an assertion of another security key, or a backup code.
When nothing would stay, the proof comes from a factor being removed or is a backup
code. So someone holding the password, a session and one factor cannot strip the
others. Wrong proofs are throttled with every other code (second_factor._throttled).

Recovery through support removes the factors without a proof, on staff approval
(second_factor.second_factor_remove, called by accounts.services.recovery)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import AuthenticatorApp, BackupCode, SecurityEvent, SecurityKey, User
from accounts.security import security_log
from accounts.services.second_factor import (
    _notify,
    second_factor_enabled,
    second_factor_remove,
    second_factor_verify,
)
from accounts.services.security_keys import security_key_verify

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class FactorProof:
    """What the customer answered: a code (of the app, or a backup code) or a security
    key's assertion (`credential`), checked against the `challenge` kept in the session
    and this site as relying party (`rp_id`, `origin`)."""

    code: str = ""
    credential: str = ""
    challenge: str = ""
    rp_id: str = ""
    origin: str = ""


@dataclass(frozen=True)
class AcceptedProofs:
    """Which factors may prove a removal (a backup code always may)."""

    app: bool           # a code of the authenticator app
    key_ids: set[int]   # an assertion of one of these security keys
    last: bool          # nothing stays: two-step verification will be off


def removal_accepted_proofs(*, user: User, app: bool,
                            key_ids: Collection[int]) -> AcceptedProofs:
    """Which factors may prove the removal of the app (when `app`) and of the keys
    `key_ids`: those that stay; when none stays, those being removed."""
    has_app = AuthenticatorApp.objects.filter(user=user, confirmed=True).exists()
    keys = set(SecurityKey.objects.filter(user=user).values_list("pk", flat=True))
    app_stays, keys_staying = has_app and not app, keys - set(key_ids)
    if app_stays or keys_staying:
        return AcceptedProofs(app=app_stays, key_ids=keys_staying, last=False)
    return AcceptedProofs(app=has_app, key_ids=keys & set(key_ids), last=True)


def _proof_verify(*, user, app, key_ids, proof, request, where):
    accepted = removal_accepted_proofs(user=user, app=app, key_ids=key_ids)
    accepts_app, accepted_keys = accepted.app, accepted.key_ids
    if proof.credential:
        security_key_verify(user=user, credential=proof.credential, challenge=proof.challenge,
                            rp_id=proof.rp_id, origin=proof.origin, request=request,
                            where=where, key_ids=accepted_keys)
    else:
        second_factor_verify(user=user, code=proof.code, request=request, where=where,
                             app=accepts_app)


def _lock(user):
    # Two removals at once: the second sees what the first removed, so the last
    # factor's removal also removes the backup codes.
    User.objects.select_for_update().filter(pk=user.pk).first()


def authenticator_app_remove(*, user: User, proof: FactorProof,
                             request: HttpRequest | None = None) -> bool:
    """Remove the authenticator app, proven by a remaining security key or a backup
    code (by the app itself when it is the only factor: then two-step verification is
    off). Raises WrongSecondFactorCode / SecondFactorThrottled; False: there was none."""
    if not AuthenticatorApp.objects.filter(user=user, confirmed=True).exists():
        return False
    _proof_verify(user=user, app=True, key_ids=(), proof=proof, request=request,
                  where="authenticator_app_remove")
    with transaction.atomic():
        _lock(user)
        if not SecurityKey.objects.filter(user=user).exists():
            return second_factor_remove(user=user, request=request)
        AuthenticatorApp.objects.filter(user=user).delete()
        security_log(user=user, action=SecurityEvent.Action.SECOND_FACTOR_REMOVED,
                     request=request, factor="totp")
        _notify(user=user, event="removed_app", request=request)
    return True


def security_key_remove(*, user: User, key_id: int, proof: FactorProof,
                        request: HttpRequest | None = None) -> bool:
    """Remove one security key, proven by the app, another key or a backup code (by
    that key itself when it is the only factor). False: no such key of this customer."""
    key = SecurityKey.objects.filter(user=user, pk=key_id).first()
    if key is None:
        return False
    _proof_verify(user=user, app=False, key_ids={key.pk}, proof=proof, request=request,
                  where="security_key_remove")
    with transaction.atomic():
        _lock(user)
        if not SecurityKey.objects.filter(pk=key.pk).delete()[0]:
            return False
        if not second_factor_enabled(user=user):  # that was the last factor
            BackupCode.objects.filter(user=user).delete()
        security_log(user=user, action=SecurityEvent.Action.SECOND_FACTOR_REMOVED,
                     request=request, factor="security_key", name=key.name)
        _notify(user=user, event="removed_key", request=request, name=key.name)
    return True


def second_factor_turn_off(*, user: User, proof: FactorProof,
                           request: HttpRequest | None = None) -> bool:
    """Remove every factor and the backup codes, proven by any factor or a backup code."""
    if not second_factor_enabled(user=user):
        return False
    key_ids = set(SecurityKey.objects.filter(user=user).values_list("pk", flat=True))
    _proof_verify(user=user, app=True, key_ids=key_ids, proof=proof, request=request,
                  where="second_factor_off")
    with transaction.atomic():
        _lock(user)
        return second_factor_remove(user=user, request=request)
