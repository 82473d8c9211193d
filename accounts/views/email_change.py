"""The primary-email change: request, code, resend, cancel, and the links in its emails."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import proof, selectors, services
from accounts.forms import (
    EmailChangeForm,
    VerificationCodeForm,
)
from portal.errors import DomainError, form_add_domain_error


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
