from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.forms import NormalisedEmailField
from billing.models import Invoice, Service
from portal.formats import format_money
from portal.text import no_control_characters
from support.attachments import (
    MAX_FILES,
    MAX_SIZE,
    AttachmentRefused,
    attachments_check,
)
from support.models import Category


def _attachments_help():
    return gettext("Up to %(count)d files of %(size)d MB each: PDF, PNG, JPEG or plain "
                   "text.") % {"count": MAX_FILES, "size": MAX_SIZE // (1024 * 1024)}


ATTACHMENTS_HELP = lazy(_attachments_help, str)()


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Zero to MAX_FILES files, each checked by size and by content."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(
            attrs={"accept": ".pdf,.png,.jpg,.jpeg,.txt,application/pdf,image/png,"
                             "image/jpeg,text/plain"}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        kwargs.setdefault("help_text", ATTACHMENTS_HELP)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = [single(item, initial) for item in data] if isinstance(data, (list, tuple)) \
            else ([single(data, initial)] if data else [])
        files = [item for item in files if item]
        try:
            attachments_check(files)
        except AttachmentRefused as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return files


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, service):
        return f"{service.name} ({service.product.localised_name})"


class InvoiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, invoice):
        return f"{invoice.number} – {format_money(invoice.total, invoice.currency)}"


class RequestForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    service = ServiceChoiceField(label=_("Service concerned"), queryset=Service.objects.none(),
                                 required=False, empty_label=_("None"))
    invoice = InvoiceChoiceField(label=_("Invoice concerned"), queryset=Invoice.objects.none(),
                                 required=False, empty_label=_("None"))
    subject = forms.CharField(label=_("Subject"), max_length=150,
                              validators=[no_control_characters])
    body = forms.CharField(label=_("Message"), max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 8}))
    attachments = AttachmentsField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the customer's own: anything else is "not one of the available choices".
        self.fields["service"].queryset = (Service.objects.filter(customer=user)
                                           .select_related("product").order_by("name"))
        self.fields["invoice"].queryset = Invoice.objects.filter(
            customer=user, status=Invoice.Status.ISSUED).order_by("-year", "-sequence")


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your answer"), max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    attachments = AttachmentsField()


class ContactForm(forms.Form):
    """For someone who cannot log in. Access problems go to the flows that solve them
    (password reset, account recovery) rather than to a message."""

    FORGOTTEN_PASSWORD = "password"
    NO_EMAIL_ACCESS = "email_access"
    ACCESS_TOPICS = (FORGOTTEN_PASSWORD, NO_EMAIL_ACCESS)

    topic = forms.ChoiceField(label=_("What is it about?"), widget=forms.RadioSelect, choices=[
        (FORGOTTEN_PASSWORD, _("I cannot log in: I have forgotten my password")),
        (NO_EMAIL_ACCESS, _("I cannot log in: I can no longer read my account's email address")),
        *Category.choices,
    ])
    nic_handle = forms.CharField(label=_("Your customer ID (NIC handle)"), max_length=32,
                                 required=False, validators=[no_control_characters],
                                 help_text=_("For example ab123456-OVH."))
    email = NormalisedEmailField(label=_("Email address to answer you at"), required=False)
    message = forms.CharField(label=_("Message"), max_length=5000, required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))

    def clean(self):
        data = super().clean()
        if data.get("topic") in self.ACCESS_TOPICS:
            return data
        for name in ("nic_handle", "email", "message"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, forms.ValidationError(_("This field is required."),
                                                           code="required"))
        return data
