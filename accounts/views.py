import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import proof, selectors, services
from accounts.forms import (
    CurrentPasswordChangeForm,
    EmailChangeForm,
    LoginForm,
    PasswordAndCodeForm,
    PasswordResetRequestForm,
    ProfileForm,
    RecoveryRequestForm,
    SecondFactorLoginForm,
    SecurityKeyForm,
    SignupForm,
    TotpConfirmForm,
    VerificationCodeForm,
)
from accounts.models import User
from portal.errors import DomainError, form_add_domain_error


def signup(request):
    """The same answer ("check your inbox") whether or not the address is taken: the
    service emails the owner of a taken address instead of creating an account. Nobody
    is logged in here; the confirmation link leads to the NIC handle and the login."""
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    form = SignupForm(request.POST or None, initial={"language": get_language() or "en"})
    if request.method == "POST":
        try:
            services.signup_rate_limit(request=request)
        except services.RateLimited as error:
            form_add_domain_error(form, error)
        else:
            if form.is_valid():
                data = form.cleaned_data
                services.account_signup(
                    email=data["email"], password=data["password1"],
                    first_name=data["first_name"], last_name=data["last_name"],
                    request=request, **form.profile_data(),
                )
                return redirect("accounts:signup-done")
    return render(request, "accounts/signup.html", {"form": form})


def signup_done(request):
    return render(request, "accounts/signup_done.html")


def confirm_email(request, token):
    user = services.account_confirm_email(token=token, request=request)
    return render(request, "accounts/confirm_email.html", {"confirmed_user": user},
                  status=200 if user else 400)


@login_required
@require_POST
def resend_confirmation(request):
    try:
        services.account_resend_confirmation(user=request.user)
    except DomainError as refusal:
        messages.info(request, str(refusal))
    else:
        messages.success(request, _("We sent a new confirmation email to %(email)s.")
                         % {"email": request.user.email})
    return redirect("accounts:dashboard")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """The password is right. With a second factor (and no "remember this browser"
        cookie for this account), the login waits for the second step; otherwise it is
        complete."""
        user = form.get_user()
        has_second_factor = services.second_factor_enabled(user=user)
        if has_second_factor and not proof.trusted_browser_is(self.request, user):
            self.request.session[proof.PENDING_LOGIN_KEY] = {
                "user": user.pk, "backend": user.backend, "at": time.time(),
                "next": self.get_success_url()}
            return redirect("accounts:login-second-step")
        response = super().form_valid(form)
        proof.proof_record(self.request, second_factor=has_second_factor)
        services.login_notify(user=user, request=self.request)
        return response


class AdminLoginView(LoginView):
    """/admin/login/: the same login, then back to admin (which asks staff for their
    second factor). A customer already logged in sees the form, not a redirect loop."""

    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return str(reverse_lazy("admin:index"))


def login_second_step(request):
    """The code of the authenticator app or a backup code, after the password. Wrong
    codes are throttled per account (services.second_factor_verify); the page says how
    long to wait."""
    pending = request.session.get(proof.PENDING_LOGIN_KEY)
    user = None
    if pending and time.time() - pending["at"] < proof.PENDING_LOGIN_MAX_AGE:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(proof.PENDING_LOGIN_KEY, None)
        messages.info(request, _("Please log in again."))
        return redirect("accounts:login")
    with_key = request.method == "POST" and bool(request.POST.get("credential"))
    form = SecondFactorLoginForm(request.POST or None, with_key=with_key)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if with_key:
                rp_id, origin = _relying_party(request)
                services.security_key_verify(
                    user=user, credential=form.cleaned_data["credential"],
                    challenge=request.session.pop(WEBAUTHN_LOGIN_KEY, ""), rp_id=rp_id,
                    origin=origin, request=request)
            else:
                services.second_factor_verify(user=user, code=form.cleaned_data["code"],
                                              request=request)
        except services.SecondFactorThrottled as error:
            form_add_domain_error(form, error)
            status = 429
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            del request.session[proof.PENDING_LOGIN_KEY]
            auth_login(request, user, backend=pending["backend"])
            proof.proof_record(request, second_factor=True)
            services.login_notify(user=user, request=request)
            response = redirect(pending["next"])
            if form.cleaned_data["remember"]:
                proof.trusted_browser_remember(response, user,
                                               secure=settings.SESSION_COOKIE_SECURE)
            return response
    return render(request, "accounts/login_second_step.html",
                  {"form": form, "has_keys": selectors.security_keys(user=user) != []},
                  status=status)


WEBAUTHN_LOGIN_KEY = "accounts.webauthn_login"
WEBAUTHN_REGISTER_KEY = "accounts.webauthn_register"


def _relying_party(request):
    """WebAuthn's relying party: this host (checked by ALLOWED_HOSTS) and its origin."""
    host = request.get_host()
    return host.split(":")[0], f"{request.scheme}://{host}"


def _json(text):
    return HttpResponse(text, content_type="application/json")


@require_POST
def login_security_key_options(request):
    """The options of a key's answer: for the login in progress, or for "Confirm it's
    you" when logged in."""
    pending = request.session.get(proof.PENDING_LOGIN_KEY)
    if request.user.is_authenticated:
        user = request.user
    elif pending:
        user = User.objects.get(pk=pending["user"])
    else:
        raise Http404("No login in progress")
    rp_id, _origin = _relying_party(request)
    options, challenge = services.security_key_authentication_options(user=user, rp_id=rp_id)
    request.session[WEBAUTHN_LOGIN_KEY] = challenge
    return _json(options)


def reauth(request):
    """"Confirm it's you": the password, and a code when the account has a second
    factor. Sensitive pages send here when the last proof is older than 5 minutes
    (accounts.proof.recent_proof_required); staff come here to prove their second factor
    before /admin/."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()},
                                           require_https=request.is_secure()):
        next_url = str(reverse_lazy("accounts:security"))
    ask_code = services.second_factor_enabled(user=request.user)
    has_keys = selectors.security_keys(user=request.user) != []
    with_key = request.method == "POST" and bool(request.POST.get("credential"))
    form = PasswordAndCodeForm(request.POST or None, user=request.user, request=request,
                               where="reauth", ask_code=ask_code, with_key=has_keys)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if with_key:
                rp_id, origin = _relying_party(request)
                services.security_key_verify(
                    user=request.user, credential=form.cleaned_data["credential"],
                    challenge=request.session.pop(WEBAUTHN_LOGIN_KEY, ""), rp_id=rp_id,
                    origin=origin, request=request, where="reauth")
            elif ask_code:
                services.second_factor_verify(user=request.user,
                                              code=form.cleaned_data["code"],
                                              request=request, where="reauth")
        except services.SecondFactorThrottled as error:
            form_add_domain_error(form, error)
            status = 429
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            proof.proof_record(request, second_factor=ask_code)
            return redirect(next_url)
    return render(request, "accounts/reauth.html",
                  {"form": form, "next": next_url, "has_keys": has_keys},
                  status=status)


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


@login_required
def dashboard(request):
    return render(request, "accounts/dashboard.html",
                  {"pending_change": selectors.email_change_pending(user=request.user)})


@login_required
def profile(request):
    return render(request, "accounts/profile.html",
                  {"pending_change": selectors.email_change_pending(user=request.user)})


@login_required
def profile_edit(request):
    # The form edits a copy: an invalid submission must not show in the page's menu.
    form = ProfileForm(request.POST or None, instance=User.objects.get(pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if services.profile_update(user=request.user, changes=changes, request=request):
            messages.success(request, _("Your information has been updated."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile_edit.html", {"form": form})


@login_required
@proof.recent_proof_required
def email_change(request):
    pending = selectors.email_change_pending(user=request.user)
    form = EmailChangeForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_change_request(user=request.user,
                                          new_email=form.cleaned_data["new_email"],
                                          request=request)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _(
                "We sent a verification code to your current address %(email)s, and a link "
                "to %(new)s to check that it is reachable.")
                % {"email": request.user.email, "new": form.cleaned_data["new_email"]})
            return redirect("accounts:email-change")
    return render(request, "accounts/email_change.html", {"form": form, "pending": pending})


def _pending_or_404(user):
    pending = selectors.email_change_pending(user=user)
    if pending is None:
        raise Http404("No pending email change")
    return pending


@login_required
@require_POST
def email_change_resend(request):
    pending = _pending_or_404(request.user)
    try:
        services.email_change_resend_code(change=pending, request=request)
    except services.EmailChangeError as error:
        messages.warning(request, str(error))
    else:
        messages.success(request, _("We sent a new code to %(email)s. The previous code no "
                                    "longer works.") % {"email": pending.old_email})
    return redirect("accounts:email-change")


@login_required
@require_POST
def email_change_cancel(request):
    services.email_change_cancel(change=_pending_or_404(request.user), request=request)
    messages.info(request, _("Your email change request has been cancelled."))
    return redirect("accounts:email-change")


@login_required
def email_change_verify(request):
    pending = selectors.email_change_pending(user=request.user)
    if pending is None:
        messages.info(request, _("You have no pending email change."))
        return redirect("accounts:email-change")
    form = VerificationCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_change_verify(change=pending, code=form.cleaned_data["code"],
                                         request=request)
        except services.WrongCode as error:
            form_add_domain_error(form, error)
        except services.EmailChangeError as error:
            # Aborted now (too many wrong codes, address taken), or closed since this
            # request read it (applied by a double submit, cancelled, refused).
            messages.error(request, str(error))
            return redirect("accounts:email-change")
        else:
            messages.success(request, _("Your email address is now %(email)s.")
                             % {"email": pending.new_email})
            return redirect("accounts:profile")
    return render(request, "accounts/email_change_verify.html", {"form": form, "pending": pending})


def email_change_refuse(request, token):
    """The link in the email to the current address. GET asks, POST refuses, so that a
    mail scanner following links cannot refuse on the customer's behalf."""
    if request.method == "POST":
        change = services.email_change_refuse(token=token, request=request)
    else:
        change = services.email_change_from_token(token, services.REFUSE_SALT)
    return render(request, "accounts/email_change_refuse.html",
                  {"change": change, "done": request.method == "POST"},
                  status=200 if change else 400)


def email_change_confirm_new(request, token):
    change = services.email_change_confirm_new(token=token, request=request)
    return render(request, "accounts/email_change_confirm_new.html", {"change": change},
                  status=200 if change else 400)


def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST":
        try:
            # Before the form: the limits never depend on whether the input is valid.
            services.password_reset_rate_limit(login=request.POST.get("login"), request=request)
        except services.RateLimited as error:
            form_add_domain_error(form, error)
        else:
            if form.is_valid():
                services.password_reset_request(login=form.cleaned_data["login"],
                                                request=request)
                return redirect("accounts:password-reset-done")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_done(request):
    return render(request, "accounts/password_reset_done.html")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    post_reset_login = False
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        """The link was checked when this request began; another request with the same
        link may have used it since. Check it again against the account's row, locked
        until the new password is saved, so that a link sets a password once."""
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=form.user.pk)
            token = self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN)
            if not self.token_generator.check_token(user, token):
                self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
                self.validlink = False
                return self.render_to_response(self.get_context_data())
            form.user = user
            response = super().form_valid(form)
            services.password_changed(user=user, request=self.request, how="reset")
            # Django's session hash already refuses them; this also takes them off the
            # list and out of the session store.
            services.sessions_end_others(user=user, keep_session_key=None,
                                         request=self.request, reason="password reset")
        return response


def password_reset_complete(request):
    return render(request, "accounts/password_reset_complete.html")


@login_required
def security(request):
    """The page shows without a recent proof; changing the password wants one (the form
    asks the password, "Confirm it's you" adds the second factor)."""
    if request.method == "POST" and not proof.proof_is_recent(request):
        messages.info(request, _("For your security, confirm it's you before going on."))
        return redirect(proof.reauth_url(request.path))
    form = CurrentPasswordChangeForm(request.user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.password_change(user=request.user, new_password=form.cleaned_data["new_password1"],
                                 request=request)
        services.sessions_end_others(user=request.user,
                                     keep_session_key=request.session.session_key,
                                     request=request, reason="password change")
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed. Your other sessions "
                                    "have been logged out."))
        return redirect("accounts:security")
    events = selectors.security_events(user=request.user, page=request.GET.get("page"))
    return render(request, "accounts/security.html", {
        "form": form, "events": events,
        "second_factor": selectors.second_factor_status(user=request.user),
        "sessions": selectors.sessions_active(user=request.user,
                                              current_session_key=request.session.session_key)})


@login_required
@require_POST
def session_end(request, session_id):
    """End one other session: that browser is logged out at its next request."""
    if services.session_end(user=request.user, session_id=session_id, request=request):
        messages.success(request, _("The session has been ended."))
    return redirect("accounts:security")


@login_required
@require_POST
def sessions_end_others(request):
    ended = services.sessions_end_others(user=request.user,
                                         keep_session_key=request.session.session_key,
                                         request=request)
    messages.success(request, ngettext("%(count)d other session has been ended.",
                                       "%(count)d other sessions have been ended.", ended)
                     % {"count": ended})
    return redirect("accounts:security")


def account_recovery(request):
    form = RecoveryRequestForm(request.POST or None)
    if request.method == "POST":
        try:
            # Before the form: the limit never depends on whether the input is valid.
            services.recovery_rate_limit(request=request)
        except services.RateLimited as error:
            form_add_domain_error(form, error)
        else:
            if form.is_valid():
                data = form.cleaned_data
                services.recovery_request_create(nic_handle=data["nic_handle"],
                                                 new_email=data["new_email"],
                                                 message=data["message"], request=request)
                return redirect("accounts:account-recovery-sent")
    return render(request, "accounts/account_recovery.html", {"form": form})


def account_recovery_sent(request):
    return render(request, "accounts/account_recovery_sent.html")


def account_recovery_cancel(request, token):
    """GET asks, POST cancels (mail scanners follow links)."""
    recovery = services.recovery_from_token(token)
    if recovery is not None and request.method == "POST":
        services.recovery_request_cancel(recovery=recovery, request=request)
        recovery.refresh_from_db()
    return render(request, "accounts/account_recovery_cancel.html",
                  {"recovery": recovery, "done": request.method == "POST"},
                  status=200 if recovery else 400)


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
