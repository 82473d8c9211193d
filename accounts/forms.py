import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import LegalForm, User
from accounts.passwords import current_password_check
from billing.vat import vat_number_clean
from portal.text import no_control_characters, normalise_email


class NormalisedEmailField(forms.EmailField):
    """An email address in its normal form (portal.text.normalise_email): normalised
    before Django's validators run, so they check what will be stored."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_email(value) if value else value


# The phone's help says how to write it; the error (normalise_phone) says what is wrong.
PHONE_HELP = _("With the country code, for example +33 1 23 45 67 89.")
# The country the signup form suggests for the page's language. English is spoken in too
# many countries to guess one: the customer chooses.
SUGGESTED_COUNTRY = {"es": "ES", "fr": "FR"}


def normalise_phone(value, country=""):
    """A phone number in E.164 (+33123456789), or ValidationError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise forms.ValidationError(
            _("This phone number is not valid in international format: check the + and "
              "the country code."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_contact_fields(form, cleaned, *, primary_email):
    """Rules shared by signup and profile: spare address differs from the primary one,
    organisations name themselves, phone numbers are stored in E.164."""
    spare = cleaned.get("spare_email")
    if primary_email and spare and spare == primary_email.lower():
        form.add_error("spare_email", forms.ValidationError(
            _("The spare address must differ from the main address."), code="same_email"))
    if cleaned.get("legal_form") not in (None, LegalForm.INDIVIDUAL) and not (
        cleaned.get("organisation") or ""
    ).strip():
        form.add_error("organisation", forms.ValidationError(
            _("Enter the name of your organisation."), code="organisation_required"))
    _clean_vat_number(form, cleaned)
    if "phone" in cleaned:
        try:
            cleaned["phone"] = normalise_phone(cleaned["phone"], cleaned.get("country"))
        except forms.ValidationError as error:
            form.add_error("phone", error)


def _clean_vat_number(form, cleaned):
    """A VAT number is for businesses, and must be a valid one of the country chosen;
    stored in its compact form with the country prefix (billing.vat)."""
    number = (cleaned.get("vat_number") or "").strip()
    if not number:
        return
    if cleaned.get("legal_form") in (None, LegalForm.INDIVIDUAL):
        form.add_error("vat_number", forms.ValidationError(
            _("A VAT number is for businesses: choose your legal form, or leave it empty."),
            code="vat_number_individual"))
        return
    if not cleaned.get("country"):
        return  # the country field says what is missing
    try:
        cleaned["vat_number"] = vat_number_clean(number, cleaned["country"])
    except ValueError as error:
        form.add_error("vat_number", forms.ValidationError(str(error), code="invalid_vat_number"))


def vat_number_field():
    return forms.CharField(
        label=_("VAT number"), max_length=30, required=False,
        validators=[no_control_characters],
        help_text=_("Businesses in the European Union: your intra-community VAT number, "
                    "for example DE123456789."),
    )


class SignupForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100,
                                 validators=[no_control_characters])
    last_name = forms.CharField(label=_("Last name"), max_length=100,
                                validators=[no_control_characters])
    email = NormalisedEmailField(
        label=_("Email address"), max_length=254,
        help_text=_("We recommend an address that is not tied to your own domain name: "
                    "if the domain expires, you would no longer receive our emails."),
    )
    spare_email = NormalisedEmailField(
        label=_("Spare email address"), max_length=254, required=False,
        help_text=_("Another address where we can reach you. It must differ from the "
                    "main one."),
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    legal_form = forms.ChoiceField(
        label=_("Legal form"), choices=LegalForm.choices, initial=LegalForm.INDIVIDUAL
    )
    organisation = forms.CharField(
        label=_("Organisation"), max_length=200, required=False,
        help_text=_("Required unless you sign up as an individual."),
        validators=[no_control_characters],
    )
    vat_number = vat_number_field()
    address = forms.CharField(label=_("Address"), max_length=255,
                              validators=[no_control_characters])
    city = forms.CharField(label=_("City"), max_length=100, validators=[no_control_characters])
    zip = forms.CharField(label=_("Postcode"), max_length=20, validators=[no_control_characters])
    country = forms.ChoiceField(label=_("Country"))
    phone = forms.CharField(label=_("Phone"), max_length=32, help_text=PHONE_HELP)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose your country")), *countries]
        self.helper = FormHelper()
        self.helper.form_id = "signup-form"
        self.helper.attrs = {"novalidate": ""}  # the app's messages, not the browser's
        self.helper.layout = Layout(
            Fieldset(
                _("Your identity"),
                Row(Column("first_name", css_class="col-md-6"),
                    Column("last_name", css_class="col-md-6")),
                Row(Column("legal_form", css_class="col-md-6"),
                    Column("organisation", css_class="col-md-6")),
                "vat_number",
            ),
            Fieldset(
                _("How we reach you"),
                Row(Column("email", css_class="col-md-6"),
                    Column("spare_email", css_class="col-md-6")),
                Row(Column("phone", css_class="col-md-6"),
                    Column("language", css_class="col-md-6")),
            ),
            Fieldset(
                _("Postal address"),
                "address",
                Row(Column("zip", css_class="col-md-4"), Column("city", css_class="col-md-8")),
                "country",
            ),
            Fieldset(
                _("Password"),
                Row(Column("password1", css_class="col-md-6"),
                    Column("password2", css_class="col-md-6")),
            ),
            Submit("submit", _("Create my account"), css_class="btn-lg"),
        )

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean(self):
        cleaned = super().clean()
        clean_contact_fields(self, cleaned, primary_email=cleaned.get("email"))
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", forms.ValidationError(
                _("The two passwords do not match."), code="password_mismatch"))
        elif password1:
            probe = User(
                email=cleaned.get("email") or "", first_name=cleaned.get("first_name") or "",
                last_name=cleaned.get("last_name") or "",
            )
            try:
                password_validation.validate_password(password1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def profile_data(self):
        """The cleaned values that are stored on the account as they are."""
        fields = ("legal_form", "organisation", "vat_number", "address", "city", "zip",
                  "country", "phone", "language", "spare_email")
        return {name: self.cleaned_data[name] for name in fields}


def bound_login_length(form):
    """Refuse a login longer than any address before it is looked up. Django's
    AuthenticationForm sets max_length after the field is built, so nothing checks it:
    a longer login would reach axes, whose log column holds 255 characters (a 500 on
    PostgreSQL)."""
    username = form.fields["username"]
    username.max_length = 254
    username.validators.append(MaxLengthValidator(254))
    username.widget.attrs["maxlength"] = 254


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "The customer ID or email and the password do not match. "
            "Note that the password is case-sensitive."
        ),
        "inactive": _("This account is disabled. Please contact support."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        bound_login_length(self)
        username = self.fields["username"]
        username.label = _("Customer ID (NIC handle) or email")
        username.widget.attrs.update({"autocomplete": "username", "placeholder": "dm429850-OVH"})
        self.fields["password"].label = _("Password")


class StaffLoginForm(AdminAuthenticationForm):
    """The admin's login, with the same bound on the login as the customers' page."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        bound_login_length(self)


class ProfileForm(forms.ModelForm):
    """«Mi cuenta» → «Modificar»: everything but the NIC handle and the primary email."""

    class Meta:
        model = User
        fields = ["first_name", "last_name", "legal_form", "organisation", "vat_number",
                  "address", "zip", "city", "country", "phone", "spare_email", "language",
                  "login_notifications"]
        field_classes = {"spare_email": NormalisedEmailField}
        help_texts = {
            "phone": PHONE_HELP,
            "login_notifications": _("Security emails (password or email address changed) "
                                     "are always sent."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vat_number"] = vat_number_field()
        for name in ("address", "zip", "city", "country", "phone"):
            self.fields[name].required = True
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template holds the form and its buttons
        self.helper.layout = Layout(
            Fieldset(_("Identity"),
                     Row(Column("first_name", css_class="col-md-6"),
                         Column("last_name", css_class="col-md-6")),
                     Row(Column("legal_form", css_class="col-md-6"),
                         Column("organisation", css_class="col-md-6")),
                     "vat_number"),
            Fieldset(_("Postal address"), "address",
                     Row(Column("zip", css_class="col-md-4"), Column("city", css_class="col-md-8")),
                     "country"),
            Fieldset(_("Contact and preferences"),
                     Row(Column("phone", css_class="col-md-6"),
                         Column("spare_email", css_class="col-md-6")),
                     Row(Column("language", css_class="col-md-6")),
                     "login_notifications"),
        )

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean(self):
        cleaned = super().clean()
        clean_contact_fields(self, cleaned, primary_email=self.instance.email)
        return cleaned


class NewEmailTwiceForm(forms.Form):
    """A new address typed twice; both are compared in their normal form."""

    new_email = NormalisedEmailField(label=_("New email address"), max_length=254)
    new_email2 = NormalisedEmailField(label=_("New email address (again)"), max_length=254)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_email"), cleaned.get("new_email2")
        if first and second and first != second:
            self.add_error("new_email2", forms.ValidationError(
                _("The two addresses do not match."), code="email_mismatch"))
        return cleaned


class EmailChangeForm(NewEmailTwiceForm):
    password = forms.CharField(
        label=_("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, request=None, **kwargs):
        self.user, self.request = user, request
        super().__init__(*args, **kwargs)

    def clean_new_email(self):
        email = self.cleaned_data["new_email"]
        if email == self.user.email.lower():
            raise forms.ValidationError(_("This is already your email address."),
                                        code="same_email")
        # An address used by another account gets the same answer as a free one
        # (services.email_change_request): no page tells them apart.
        return email

    def clean_password(self):
        password = self.cleaned_data["password"]
        current_password_check(user=self.user, password=password, request=self.request,
                               where="email_change")
        return password


class CurrentPasswordChangeForm(PasswordChangeForm):
    """Django's form (fields old_password, new_password1, new_password2), with the
    current password checked under the same throttle as the email change."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        password = self.cleaned_data["old_password"]
        current_password_check(user=self.user, password=password, request=self.request,
                               where="password_change",
                               incorrect=self.error_messages["password_incorrect"])
        return password


class VerificationCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters",
                                      "spellcheck": "false", "class": "font-monospace"}),
    )


class PasswordResetRequestForm(forms.Form):
    login = forms.CharField(
        label=_("Customer ID (NIC handle) or email"), max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "placeholder": "dm429850-OVH"}),
    )


class RecoveryRequestForm(NewEmailTwiceForm):
    field_order = ["nic_handle", "new_email", "new_email2", "message"]
    nic_handle = forms.CharField(label=_("Customer ID (NIC handle)"), max_length=32,
                                 widget=forms.TextInput(attrs={"placeholder": "dm429850-OVH"}))
    message = forms.CharField(
        label=_("Message to our support team"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Explain why you can no longer read your current address, and anything "
                    "that helps us check that the account is yours (invoice numbers, "
                    "services, postal address)."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


def _code_field(label=_("Code")):
    return forms.CharField(
        label=label, max_length=20,
        help_text=_("The 6-digit code of your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                      "autocapitalize": "none", "spellcheck": "false",
                                      "class": "font-monospace"}),
    )


class SecondFactorLoginForm(forms.Form):
    """The second step of a login; the view checks the code (services.second_factor_verify)."""

    code = _code_field()
    credential = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20000)
    remember = forms.BooleanField(label=_("Remember this browser for 30 days"), required=False,
                                  help_text=_("Only on a device that you alone use. Changing "
                                              "your password ends it."))


    def __init__(self, *args, with_key=False, offer_remember=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_key:
            self.fields["code"].required = False
        if not offer_remember:
            del self.fields["remember"]


class SecurityKeyForm(forms.Form):
    name = forms.CharField(label=_("Name of the key"), max_length=60,
                           validators=[no_control_characters],
                           help_text=_("For example “YubiKey on my keyring” or “Laptop”."))
    credential = forms.CharField(widget=forms.HiddenInput, max_length=20000)


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code shown by the app"), max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "class": "font-monospace"}),
    )


class PasswordAndCodeForm(forms.Form):
    """The current password (throttled, accounts.passwords) and, when the account has a
    second factor, a code: the view checks the code once the password is right."""

    password = forms.CharField(
        label=_("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = _code_field()
    credential = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20000)

    def __init__(self, *args, user, request=None, where="", ask_code=True, with_key=False,
                 **kwargs):
        self.user, self.request, self.where = user, request, where
        super().__init__(*args, **kwargs)
        if not ask_code:
            del self.fields["code"]
        elif with_key:
            self.fields["code"].required = False

    def clean_password(self):
        password = self.cleaned_data["password"]
        current_password_check(user=self.user, password=password, request=self.request,
                               where=self.where)
        return password

    def clean(self):
        cleaned = super().clean()
        code = self.fields.get("code")
        if (code is not None and not code.required and "code" not in self.errors
                and not cleaned.get("code") and not cleaned.get("credential")):
            self.add_error("code", _("Enter a code, or confirm with your security key."))
        return cleaned
