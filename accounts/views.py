
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    CurrentPasswordChangeForm,
    EmailChangeForm,
    LoginForm,
    PasswordResetRequestForm,
    ProfileForm,
    RecoveryRequestForm,
    SignupForm,
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
        response = super().form_valid(form)
        services.login_notify(user=form.get_user(), request=self.request)
        return response


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
        return response


def password_reset_complete(request):
    return render(request, "accounts/password_reset_complete.html")


@login_required
def security(request):
    form = CurrentPasswordChangeForm(request.user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.password_change(user=request.user, new_password=form.cleaned_data["new_password1"],
                                 request=request)
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed. Your other sessions "
                                    "have been logged out."))
        return redirect("accounts:security")
    events = selectors.security_events(user=request.user, page=request.GET.get("page"))
    return render(request, "accounts/security.html", {"form": form, "events": events})


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
