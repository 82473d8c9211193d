"""Turning the second factor on and off: authenticator app, backup codes, security keys."""

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import proof, selectors, services
from accounts.forms import (
    PasswordAndCodeForm,
    SecurityKeyForm,
    TotpConfirmForm,
)
from accounts.views.login import WEBAUTHN_REGISTER_KEY, _json, _relying_party
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


@login_required
def second_factor_off(request):
    """Turning it off takes the password and a code (app or backup)."""
    if not services.second_factor_enabled(user=request.user):
        return redirect("accounts:security")
    form = PasswordAndCodeForm(request.POST or None, user=request.user, request=request,
                               where="second_factor_off")
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.second_factor_verify(user=request.user, code=form.cleaned_data["code"],
                                          request=request, where="second_factor_off")
        except services.SecondFactorThrottled as error:
            form_add_domain_error(form, error)
            status = 429
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            services.second_factor_remove(user=request.user, request=request)
            proof.proof_record(request, second_factor=False)
            request.session.pop(proof.SECOND_FACTOR_KEY, None)
            messages.success(request, _("Two-step verification is off."))
            return redirect("accounts:security")
    return render(request, "accounts/second_factor_off.html", {"form": form}, status=status)

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


@login_required
@require_POST
@proof.recent_proof_required
def security_key_remove(request, key_id):
    if services.security_key_remove(user=request.user, key_id=key_id, request=request):
        messages.success(request, _("The security key has been removed."))
    return redirect("accounts:security-keys")
