"""Turning the second factor on and off: authenticator app, backup codes, security keys."""

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import proof, selectors, services
from accounts.forms import (
    PasswordAndCodeForm,
    SecurityKeyForm,
    TotpConfirmForm,
)
from accounts.models import SecurityKey
from accounts.views.login import (
    WEBAUTHN_LOGIN_KEY,
    WEBAUTHN_REGISTER_KEY,
    _json,
    _relying_party,
)
from portal.errors import DomainError, form_add_domain_error


def _qr_code_and_secret(device):
    secret = b32encode(device.bin_key).decode().rstrip("=")
    grouped = " ".join(secret[n:n + 4] for n in range(0, len(secret), 4))
    qr = segno.make(device.config_url, error="m")
    return qr.svg_data_uri(scale=5, border=2, dark="#000", light="#fff"), grouped


@never_cache
@login_required
@proof.recent_proof_required
def totp_enrol(request):
    """Scan the QR code (or type the secret), then enter a first code: only then is the
    factor on; the ten backup codes are shown once, on the answer."""
    if selectors.second_factor_status(user=request.user)["totp"]:
        messages.info(request, _("Your authenticator app is already set up."))
        return redirect("accounts:security")
    device = services.totp_enrolment_start(user=request.user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enrolment_confirm(user=request.user, device=device,
                                                    code=form.cleaned_data["code"],
                                                    request=request)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            proof.proof_record(request, second_factor=True)
            return render(request, "accounts/backup_codes.html",
                          {"codes": codes, "enrolled": True})
    qr_code, secret = _qr_code_and_secret(device)
    return render(request, "accounts/totp_enrol.html",
                  {"form": form, "qr_code": qr_code, "secret": secret})


@never_cache
@login_required
@proof.recent_proof_required
def backup_codes(request):
    """GET says how many remain and offers new ones; POST replaces them all and shows
    the new ones once (only their hashes are kept)."""
    if not services.second_factor_enabled(user=request.user):
        return redirect("accounts:security")
    if request.method == "POST":
        codes = services.backup_codes_regenerate(user=request.user, request=request)
        return render(request, "accounts/backup_codes.html", {"codes": codes})
    return render(request, "accounts/backup_codes.html",
                  {"remaining": services.backup_codes_remaining(user=request.user)})


def _factor_removal(request, *, app, key_ids, remove, done, **page):
    """The page of a removal: the password and, in the same step, a proof from a factor
    that stays (services.removal_accepted_proofs): a code of the app, a backup code, or
    a security key (this page's URL with ?key-options answers the browser's request for
    the options of the keys that may prove it). Once `remove(proof)` did it: the
    message and the page of `done`."""
    accepted = services.removal_accepted_proofs(user=request.user, app=app, key_ids=key_ids)
    accepts_app, accepted_keys = accepted.app, accepted.key_ids
    if request.method == "POST" and "key-options" in request.GET:
        rp_id, _origin = _relying_party(request)
        options, challenge = services.security_key_authentication_options(
            user=request.user, rp_id=rp_id, key_ids=accepted_keys)
        request.session[WEBAUTHN_LOGIN_KEY] = challenge
        return _json(options)
    with_key = request.method == "POST" and bool(request.POST.get("credential"))
    form = PasswordAndCodeForm(request.POST or None, user=request.user, request=request,
                               where="factor_removal", with_key=bool(accepted_keys))
    form.fields["code"].help_text = (
        _("The 6-digit code of your authenticator app, or one of your backup codes.")
        if accepts_app else _("One of your backup codes."))
    status = 200
    if request.method == "POST" and form.is_valid():
        rp_id, origin = _relying_party(request)
        proof_given = services.FactorProof(
            code=form.cleaned_data.get("code") or "", rp_id=rp_id, origin=origin,
            credential=form.cleaned_data["credential"] if with_key else "",
            challenge=request.session.pop(WEBAUTHN_LOGIN_KEY, "") if with_key else "")
        try:
            remove(proof_given)
        except services.SecondFactorThrottled as error:
            form_add_domain_error(form, error)
            status = 429
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            still_on = services.second_factor_enabled(user=request.user)
            proof.proof_record(request, second_factor=still_on)
            if not still_on:
                request.session.pop(proof.SECOND_FACTOR_KEY, None)
            message, url = done
            messages.success(request, message)
            return redirect(url)
    return render(request, "accounts/factor_remove.html",
                  {"form": form, "keys_accepted": bool(accepted_keys), "last": accepted.last,
                   **page}, status=status)


@never_cache
@login_required
def second_factor_off(request):
    """Turning it all off (app, keys, backup codes) takes the password and a code of the
    app, a backup code or a security key."""
    if not services.second_factor_enabled(user=request.user):
        return redirect("accounts:security")
    return _factor_removal(
        request, app=True, key_ids=[key.pk for key in selectors.security_keys(user=request.user)],
        remove=lambda given: services.second_factor_turn_off(user=request.user,
                                                             proof=given, request=request),
        done=(_("Two-step verification is off."), "accounts:security"),
        title=_("Turn off two-step verification"), button=_("Turn off"),
        explanation=_("Your authenticator app, every security key and the backup codes "
                      "will be removed."),
        form_id="second-factor-off-form")


@never_cache
@login_required
def totp_remove(request):
    """Remove the authenticator app: confirmed by a security key that stays or a backup
    code (by the app itself when it is the only factor)."""
    if not selectors.second_factor_status(user=request.user)["totp"]:
        return redirect("accounts:security")
    return _factor_removal(
        request, app=True, key_ids=(),
        remove=lambda given: services.authenticator_app_remove(user=request.user,
                                                               proof=given, request=request),
        done=(_("The authenticator app has been removed."), "accounts:security"),
        title=_("Remove the authenticator app"), button=_("Remove"),
        explanation=_("Its codes will no longer confirm your logins."),
        form_id="totp-remove-form")


@never_cache
@login_required
@proof.recent_proof_required
def security_keys(request):
    """Register a security key or passkey under a name (static/js/webauthn.js runs the
    browser's side), list them, remove one."""
    form = SecurityKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rp_id, origin = _relying_party(request)
        try:
            codes = services.security_key_register(
                user=request.user, name=form.cleaned_data["name"],
                credential=form.cleaned_data["credential"],
                challenge=request.session.pop(WEBAUTHN_REGISTER_KEY, ""), rp_id=rp_id,
                origin=origin, request=request)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            proof.proof_record(request, second_factor=True)
            if codes:
                return render(request, "accounts/backup_codes.html",
                              {"codes": codes, "enrolled": True})
            messages.success(request, _("Your security key has been added."))
            return redirect("accounts:security-keys")
    return render(request, "accounts/security_keys.html",
                  {"form": form, "keys": selectors.security_keys(user=request.user)})


@login_required
@require_POST
@proof.recent_proof_required
def security_key_options(request):
    rp_id, _origin = _relying_party(request)
    options, challenge = services.security_key_registration_options(user=request.user,
                                                                     rp_id=rp_id)
    request.session[WEBAUTHN_REGISTER_KEY] = challenge
    return _json(options)


@never_cache
@login_required
def security_key_remove(request, key_id):
    """Remove one security key: confirmed by the app, another key or a backup code (by
    that key itself when it is the only factor). Another customer's key: 404."""
    key = get_object_or_404(SecurityKey, user=request.user, pk=key_id)
    return _factor_removal(
        request, app=False, key_ids=[key.pk],
        remove=lambda given: services.security_key_remove(user=request.user, key_id=key.pk,
                                                          proof=given, request=request),
        done=(_("The security key has been removed."), "accounts:security-keys"),
        title=_("Remove a security key"), key_name=key.name, button=_("Remove"),
        explanation=_("It will no longer confirm your logins."),
        form_id="security-key-remove-form")
