"""Login with its second step (app code, backup code or security key), and "confirm it's you"."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import proof, selectors, services
from accounts.forms import (
    LoginForm,
    PasswordAndCodeForm,
    SecondFactorLoginForm,
)
from accounts.models import User
from portal.errors import DomainError, form_add_domain_error


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


class LogoutView(auth_views.LogoutView):
    """POST logs out, then the login page says so. A GET (a typed or bookmarked
    /logout/) shows a page that asks first: following a link must not log anyone out."""

    http_method_names = ("get", "post", "options")

    def get(self, request, *args, **kwargs):
        return render(request, "accounts/logout.html")

    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.success(request, _("You are logged out. See you soon."))
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
    form = SecondFactorLoginForm(request.POST or None, with_key=with_key,
                                 offer_remember=proof.trusted_browser_may(user))
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
            if form.cleaned_data.get("remember"):
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
