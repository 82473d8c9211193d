import re
from decimal import Decimal, InvalidOperation

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.models import ContactRole, InvoiceLine, Period, Product
from portal.formats import format_money
from portal.text import no_control_characters

DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(value):
    """A domain name in lower-case ASCII (an internationalised name in its xn-- form)."""
    value = value.strip().rstrip(".").lower()
    try:
        ascii_name = value.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(DOMAIN_LABEL.match(x) for x in labels):
        raise forms.ValidationError(_("Enter a domain name such as example.com."),
                                    code="invalid_domain")
    return ascii_name


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, product):
        prices = []
        if product.price_monthly is not None:
            prices.append(_("%(price)s a month") % {"price": format_money(product.price_monthly)})
        if product.price_yearly is not None:
            prices.append(_("%(price)s a year") % {"price": format_money(product.price_yearly)})
        return f"{product.localised_name} ({', '.join(str(p) for p in prices)})"


class OrderForm(forms.Form):
    product = ProductChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True),
        empty_label=None, widget=forms.RadioSelect,
        help_text=_("Prices exclude tax."),
    )
    period = forms.ChoiceField(label=_("Billing period"), choices=Period.choices,
                               initial=Period.YEAR, widget=forms.RadioSelect)
    service_name = forms.CharField(
        label=_("Domain or service name"), max_length=253, validators=[no_control_characters],
        help_text=_("The domain name to register, or the domain your hosting or server is for."),
    )
    token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The total the review page showed, posted back with the confirmation.
    quoted_total = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The page writes the <form id="order-form"> tag: crispy would also copy the
        # helper's id onto each radio group's <div> (a duplicate id).
        self.helper.form_tag = False
        self.helper.add_input(Submit("review", _("Continue")))

    def clean_quoted_total(self):
        """The total the customer saw, or None when there is none to trust (the order
        service then shows the price again rather than place the order)."""
        try:
            total = Decimal(self.cleaned_data["quoted_total"])
        except InvalidOperation:
            return None
        return total if total.is_finite() else None

    def clean(self):
        data = super().clean()
        product, period = data.get("product"), data.get("period")
        if product and period and product.price_for(period) is None:
            self.add_error("period", _("%(product)s is not sold for this period.")
                           % {"product": product.localised_name})
        name = data.get("service_name")
        if product and name:
            if product.kind == Product.Kind.DOMAIN:
                try:
                    name = normalise_domain(name)
                except forms.ValidationError as error:
                    self.add_error("service_name", error)
                    return data
                if product.domain_suffix and not name.endswith(product.domain_suffix.lower()):
                    self.add_error("service_name", _("The domain name must end with %(suffix)s.")
                                   % {"suffix": product.domain_suffix})
            data["service_name"] = name
        return data


class AutoRenewForm(forms.Form):
    auto_renew = forms.TypedChoiceField(
        choices=(("on", pgettext_lazy("automatic renewal", "On")),
                 ("off", pgettext_lazy("automatic renewal", "Off"))),
        coerce=lambda value: value == "on")


class InvoiceFilterForm(forms.Form):
    # Any year: billing.selectors.invoice_list shows them all for a year with no invoice.
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1, max_value=9999)


class ContactChangeForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles to move"), choices=ContactRole.choices,
                                      widget=forms.CheckboxSelectMultiple)
    nic_handle = forms.CharField(label=_("New contact's customer ID (NIC handle)"),
                                 max_length=32, validators=[no_control_characters],
                                 help_text=_("For example dm429850-OVH, in any case."))

    def clean_nic_handle(self):
        return self.cleaned_data["nic_handle"].strip()


class ContactAnswerForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("refuse", _("Refuse"))])


# --- Admin pages: a credit note, a bank statement upload ---------------------------------


class InvoiceLineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, line):
        return f"{line.description} — {line.total_amount}"


class CreditNoteForm(forms.Form):
    """Which lines of the invoice to credit (all of them: the whole invoice) and why."""

    lines = InvoiceLineChoiceField(queryset=InvoiceLine.objects.none(),
                                   widget=forms.CheckboxSelectMultiple,
                                   label=_("Lines to credit"),
                                   error_messages={"required": _(
                                       "Choose at least one line of the invoice to credit.")})
    reason = forms.CharField(label=_("Reason"), max_length=255,
                             validators=[no_control_characters],
                             help_text=_("Shown on the credit note and in the customer's email."))

    def __init__(self, *args, invoice, **kwargs):
        super().__init__(*args, **kwargs)
        lines = invoice.lines.filter(credited_by__isnull=True).order_by("position", "pk")
        self.fields["lines"].queryset = lines
        self.fields["lines"].initial = list(lines.values_list("pk", flat=True))


class StatementUploadForm(forms.Form):
    statement = forms.FileField(label=_("Bank statement (camt.053 or camt.054 XML)"))
