from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import LoginForm, SignupForm
from notifications.models import OutboundEmail

RESEND_INTERVAL = timedelta(minutes=1)


def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.account_create(
                    email=data["email"], password=data["password1"],
                    first_name=data["first_name"], last_name=data["last_name"],
                    request=request, **form.profile_data(),
                )
            except services.EmailInUse:
                # Lost a race with a signup for the same address.
                form.add_error("email", form.email_in_use_error())
            else:
                login(request, user, backend="accounts.backends.NicHandleOrEmailBackend")
                return redirect("accounts:signup-done")
    else:
        form = SignupForm(initial={"language": get_language() or "en"})
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def signup_done(request):
    return render(request, "accounts/signup_done.html")


def confirm_email(request, token):
    user = services.account_confirm_email(token=token, request=request)
    return render(request, "accounts/confirm_email.html", {"confirmed_user": user},
                  status=200 if user else 400)


@login_required
@require_POST
def resend_confirmation(request):
    user = request.user
    if user.email_confirmed:
        messages.info(request, _("Your email address is already confirmed."))
        return redirect("accounts:dashboard")
    recent = OutboundEmail.objects.filter(
        user=user, kind="account_created", created_at__gt=timezone.now() - RESEND_INTERVAL
    ).exists()
    if recent:
        messages.warning(request, _("We sent you a confirmation email less than a minute ago. "
                                    "Please check your inbox, then try again in a minute."))
    else:
        services.account_send_confirmation(user=user)
        messages.success(request, _("We sent a new confirmation email to %(email)s.")
                         % {"email": user.email})
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
    return render(request, "accounts/dashboard.html")
