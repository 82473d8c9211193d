"""Signup, the confirmation link, the dashboard and "My account"."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    ProfileForm,
    SUGGESTED_COUNTRY,
    SignupForm,
)
from accounts.models import User
from billing import selectors as billing_selectors
from portal.errors import DomainError, form_add_domain_error


def signup(request):
    """The same answer ("check your inbox") whether or not the address is taken: the
    service emails the owner of a taken address instead of creating an account. Nobody
    is logged in here; the confirmation link leads to the NIC handle and the login."""
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    language = get_language() or "en"
    form = SignupForm(request.POST or None, initial={
        "language": language, "country": SUGGESTED_COUNTRY.get(language.split("-")[0], "")})
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

@login_required
def dashboard(request):
    """What needs the customer: services expiring soon, what is left to pay, orders not
    paid yet, a pending email change and the last logins, each with its action. A fixed
    number of queries whatever the rows behind them (billing.selectors.billing_summary)."""
    user = request.user
    return render(request, "accounts/dashboard.html", {
        "pending_change": selectors.email_change_pending(user=user),
        "billing": billing_selectors.billing_summary(user=user, now=timezone.now()),
        # Read only when their cached parts are missing (templates/accounts/dashboard.html):
        # what is left to pay changes with the invoices' version, the logins with the
        # security page's.
        "unpaid": SimpleLazyObject(lambda: billing_selectors.dashboard_unpaid(user=user)),
        "recent_logins": SimpleLazyObject(lambda: selectors.recent_logins(user=user)),
    })


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
        updated = services.profile_update(user=request.user, changes=changes, request=request)
        # The next page is in the account's language, which this change may have set:
        # the message is written in it, not in the language of this request.
        with translation.override(request.user.language):
            if updated:
                messages.success(request, _("Your information has been updated."))
            else:
                messages.info(request, _("Nothing was changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile_edit.html", {"form": form})
