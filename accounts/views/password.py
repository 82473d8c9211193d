""""Forgotten password?" and "I can no longer access my email"."""


from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from accounts import services
from accounts.forms import (
    PasswordResetRequestForm,
    RecoveryRequestForm,
)
from accounts.models import User
from portal.errors import form_add_domain_error


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
