"""The security page: password change, active sessions, security log."""


from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import proof, selectors, services
from accounts.forms import (
    CurrentPasswordChangeForm,
)


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
    # The log and the second factor are read only when the page's cached parts, keyed
    # by the account's security_version, are missing (templates/accounts/security.html).
    page = request.GET.get("page") or ""
    return render(request, "accounts/security.html", {
        "form": form, "events_page": page,
        "events": SimpleLazyObject(lambda: selectors.security_events(user=request.user,
                                                                      page=page)),
        "second_factor": SimpleLazyObject(
            lambda: selectors.second_factor_status(user=request.user)),
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
