from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services.common import RateLimited
from portal.errors import DomainError, form_add_domain_error
from support import selectors, services
from support.forms import ContactForm, ReplyForm, RequestForm


def _own_request(request, number):
    support_request = selectors.request_for_customer(user=request.user, number=number)
    if support_request is None:
        raise Http404("No such support request")
    return support_request


@login_required
def request_list(request):
    page = selectors.request_list(user=request.user, page=request.GET.get("page"))
    return render(request, "support/request_list.html", {"page": page})


@login_required
def request_new(request):
    form = RequestForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            support_request = services.support_request_open(
                customer=request.user, category=data["category"], subject=data["subject"],
                body=data["body"], service=data["service"], invoice=data["invoice"],
                attachments=data["attachments"])
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Your request %(number)s has been sent to our support "
                                        "team.") % {"number": support_request.number})
            return redirect("support:request", number=support_request.number)
    return render(request, "support/request_new.html", {"form": form})


@login_required
def request_detail(request, number):
    """The conversation (without staff's internal notes) and the answer form."""
    support_request = _own_request(request, number)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.support_request_reply(support_request=support_request,
                                           customer=request.user,
                                           body=form.cleaned_data["body"],
                                           attachments=form.cleaned_data["attachments"])
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Your answer has been sent."))
            return redirect("support:request", number=number)
    return render(request, "support/request_detail.html",
                  {"support_request": support_request, "form": form})


@login_required
@require_POST
def request_close(request, number):
    if services.support_request_close(support_request=_own_request(request, number),
                                      customer=request.user):
        messages.info(request, _("The request is closed. You can reopen it within 7 days."))
    return redirect("support:request", number=number)


@login_required
@require_POST
def request_reopen(request, number):
    try:
        services.support_request_reopen(support_request=_own_request(request, number),
                                        customer=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The request is open again."))
    return redirect("support:request", number=number)


@login_required
def attachment_download(request, public_id):
    """Its owner's, or any for staff who may read support requests; a 404 for anyone
    else. Always a download, under a name made safe when it was stored, with the type
    read from its content."""
    attachment = selectors.attachment_for(user=request.user, public_id=public_id)
    if attachment is None:
        raise Http404("No such attachment")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.name,
                            content_type=attachment.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def contact(request):
    """For someone who cannot log in: access problems go to the password reset or the
    account recovery; anything else becomes a message for staff."""
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        try:
            services.contact_rate_limit(request=request)
        except RateLimited as error:
            form_add_domain_error(form, error)
        else:
            if form.is_valid():
                data = form.cleaned_data
                if data["topic"] == ContactForm.FORGOTTEN_PASSWORD:
                    return redirect("accounts:password-reset")
                if data["topic"] == ContactForm.NO_EMAIL_ACCESS:
                    return redirect("accounts:account-recovery")
                services.contact_message_create(
                    nic_handle=data["nic_handle"], email=data["email"],
                    category=data["topic"], message=data["message"], request=request)
                return redirect("support:contact-sent")
    return render(request, "support/contact.html", {"form": form})


def contact_sent(request):
    return render(request, "support/contact_sent.html")
