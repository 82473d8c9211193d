"""Addresses are stored in one normal form (NFKC, no invisible characters, lower case,
ASCII domain) wherever they come in, so a look-alike of a taken address is the taken
address or is refused; names refuse control and text-direction characters."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError

from accounts import services
from accounts.forms import EmailChangeForm, ProfileForm, RecoveryRequestForm, SignupForm
from accounts.models import EmailChangeRequest, RecoveryRequest, User
from accounts.tests.test_profile import profile_data
from accounts.throttling import login_key
from conftest import PASSWORD, make_customer, signup_data
from notifications.models import OutboundEmail
from portal.text import normalise_email

pytestmark = pytest.mark.django_db

TAKEN = "agent@portal.example"
INVISIBLE_MESSAGE = "An email address cannot contain invisible or control characters."
NAME_MESSAGE = "This field cannot contain control or text-direction characters."

# Finding 6: each of these looked like the taken address, passed the unique rule and got
# a second account whose mail went to the first one's owner.
LOOKALIKES = {
    "zero-width space": "agent@portal.example\u200b",
    "soft hyphen": "agent@portal.ex\u00adample",
    "fullwidth letter": "\uff41gent@portal.example",
    "zero-width joiner": "agent@por\u200dtal.example",
}
INVISIBLE = {
    "zero-width space": "\u200b", "soft hyphen": "\u00ad", "zero-width joiner": "\u200d",
    "zero-width non-joiner": "\u200c", "word joiner": "\u2060", "byte order mark": "\ufeff",
    "right-to-left override": "\u202e", "left-to-right mark": "\u200e",
    "hangul filler": "\u3164", "variation selector": "\ufe0f", "nul": "\x00", "bell": "\x07",
    "tab": "\t",
}


@pytest.fixture
def taken(db):
    return make_customer(TAKEN, first_name="Ana", last_name="Gent")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()




# --- the normal form -------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["\uff41gent@portal.example", "agent@\uff50ortal.example",
                                   "\uff21\uff27\uff25\uff2e\uff34\uff20portal.example",
                                   "  Agent@Portal.EXAMPLE \n", "agent@portal.example\u3000"])
def test_a_fullwidth_lookalike_of_a_taken_address_is_the_taken_address(typed):
    assert normalise_email(typed) == TAKEN


@pytest.mark.parametrize("where", ["local", "domain", "end"])
@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_an_address_with_an_invisible_or_control_character_is_refused(char, where):
    typed = {"local": f"ag{char}ent@portal.example", "domain": f"agent@port{char}al.example",
             "end": f"agent@portal.example{char}x"}[where]
    with pytest.raises(ValidationError) as error:
        normalise_email(typed)
    assert error.value.messages == [INVISIBLE_MESSAGE]
    assert error.value.code == "invisible_characters"


@pytest.mark.parametrize("typed", ["agent@bücher.example", "Agent@BÜCHER.example",
                                   "agent@bu\u0308cher.example", "agent@xn--bcher-kva.example"])
def test_an_idn_domain_is_stored_in_ascii(typed):
    assert normalise_email(typed) == "agent@xn--bcher-kva.example"


def test_a_sharp_s_in_a_domain_is_kept_not_turned_into_ss():
    # IDNA 2003 (Python's codec) maps faß.de to fass.de, someone else's domain since
    # registries moved to IDNA 2008.
    assert normalise_email("kunde@faß.de") == "kunde@xn--fa-hia.de"
    assert normalise_email("kunde@fass.de") == "kunde@fass.de"


@pytest.mark.parametrize("typed", ["agent@" + "ü" * 70 + ".example", "agent@fa" + "ß" * 60 + ".de",
                                   "agent@b\u2ff0cher.example"], ids=["long", "long-ss", "prohibited"])
def test_a_domain_that_has_no_ascii_form_is_refused_as_invalid(db, typed):
    with pytest.raises(ValidationError) as error:
        normalise_email(typed)
    assert error.value.code == "invalid"
    form = SignupForm(signup_data(email=typed))
    assert not form.is_valid()
    assert form.errors["email"] == ["Enter a valid email address."]


def test_an_address_that_is_still_invalid_once_normalised_is_refused(db):
    form = SignupForm(signup_data(email="agent@b\u00fccher..example"))
    assert not form.is_valid()
    assert form.errors["email"] == ["Enter a valid email address."]


# --- finding 6: no second account with the same visible address ------------------------

@pytest.mark.parametrize("lookalike", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_lookalike_of_a_taken_address_cannot_make_a_second_account(taken, lookalike):
    # Refused, or read as the taken address itself (which signup then treats as taken,
    # with the same answer as for a free one: see test_signup.py).
    form = SignupForm(signup_data(email=lookalike))
    assert ("email" in form.errors) if not form.is_valid() else form.cleaned_data["email"] == TAKEN
    with pytest.raises((ValidationError, services.EmailInUse)):
        make_customer(lookalike)
    assert list(User.objects.values_list("email", flat=True)) == [TAKEN]


@pytest.mark.parametrize("lookalike", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_signing_up_with_a_lookalike_of_a_taken_address_makes_no_second_account(
    client, taken, lookalike, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/signup/", signup_data(email=lookalike))
    assert list(User.objects.values_list("email", flat=True)) == [TAKEN]
    assert not any(lookalike in message.to for message in mail.outbox)


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\u200d"], ids=["zwsp", "shy", "zwj"])
def test_signup_refuses_an_address_with_a_zero_width_space_or_another_invisible_character(
    db, char
):
    form = SignupForm(signup_data(email=f"new{char}comer@portal.example"))
    assert not form.is_valid()
    assert form.errors["email"] == [INVISIBLE_MESSAGE]


def test_signup_stores_the_normal_form_of_a_fullwidth_and_idn_address(db):
    form = SignupForm(signup_data(email=" \uff2eew@B\u00dcCHER.example",
                                  spare_email="\uff53pare@portal.example"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == "new@xn--bcher-kva.example"
    assert form.cleaned_data["spare_email"] == "spare@portal.example"


def test_signup_refuses_a_spare_address_with_an_invisible_character(db):
    form = SignupForm(signup_data(spare_email="spare@portal.example\u200b"))
    assert not form.is_valid()
    assert form.errors["spare_email"] == [INVISIBLE_MESSAGE]


def test_a_fullwidth_spare_address_equal_to_the_main_one_is_refused(db):
    form = SignupForm(signup_data(email="new@portal.example", spare_email="\uff4eew@portal.example"))
    assert not form.is_valid()
    assert form.errors["spare_email"] == ["The spare address must differ from the main address."]


# --- the other ways an address comes in -------------------------------------------------

def test_the_profile_stores_the_spare_address_in_normal_form(customer):
    form = ProfileForm(profile_data(customer, spare_email="\uff53pare@B\u00fccher.example"),
                       instance=customer)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["spare_email"] == "spare@xn--bcher-kva.example"


def test_the_profile_refuses_a_spare_address_with_an_invisible_character(customer):
    form = ProfileForm(profile_data(customer, spare_email="spare@portal.example\u00ad"),
                       instance=customer)
    assert not form.is_valid()
    assert form.errors["spare_email"] == [INVISIBLE_MESSAGE]


def test_staff_editing_the_spare_address_in_admin_store_its_normal_form(agent_client, customer):
    agent_client.post(f"/admin/accounts/user/{customer.pk}/change/",
                      profile_data(customer, spare_email="\uff53pare@portal.example"))
    customer.refresh_from_db()
    assert customer.spare_email == "spare@portal.example"


@pytest.mark.parametrize("lookalike", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_an_email_change_to_a_lookalike_of_a_taken_address_is_refused(customer, taken, lookalike):
    form = EmailChangeForm({"new_email": lookalike, "new_email2": lookalike,
                            "password": PASSWORD}, user=customer)
    if form.is_valid():  # read as the taken address: it never gets a confirm link
        assert form.cleaned_data["new_email"] == TAKEN
        services.email_change_request(user=customer, new_email=form.cleaned_data["new_email"])
        assert [e.kind for e in OutboundEmail.objects.filter(to_address=TAKEN)] == [
            "email_change_address_taken"]
    else:
        assert form.errors["new_email"] == [INVISIBLE_MESSAGE]


def test_an_email_change_compares_the_two_addresses_in_normal_form(customer):
    form = EmailChangeForm({"new_email": "\uff4eew@B\u00fccher.example",
                            "new_email2": "new@xn--bcher-kva.example", "password": PASSWORD},
                           user=customer)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["new_email"] == "new@xn--bcher-kva.example"


def test_an_email_change_refuses_a_second_address_with_an_invisible_character(customer):
    form = EmailChangeForm({"new_email": "new@portal.example",
                            "new_email2": "new@portal.example\u200b", "password": PASSWORD},
                           user=customer)
    assert not form.is_valid()
    assert form.errors["new_email2"] == [INVISIBLE_MESSAGE]


@pytest.mark.parametrize("lookalike", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_recovery_to_a_lookalike_of_a_taken_address_is_refused(customer, taken, lookalike):
    form = RecoveryRequestForm({"nic_handle": customer.nic_handle, "new_email": lookalike,
                                "new_email2": lookalike, "message": "Lost my mailbox."})
    if form.is_valid():  # read as the taken address: staff cannot approve it
        assert form.cleaned_data["new_email"] == TAKEN
    else:
        assert form.errors["new_email"] == [INVISIBLE_MESSAGE]


def test_services_store_the_normal_form_when_a_caller_skips_the_forms(customer, taken):
    user = make_customer(" \uff2eew@B\u00fccher.example ")
    assert user.email == "new@xn--bcher-kva.example"

    taken_change = services.email_change_request(user=customer,
                                                 new_email="\uff41gent@portal.example")
    assert taken_change.new_email == "agent@portal.example"
    change = services.email_change_request(user=customer, new_email="Other@B\u00fccher.example")
    assert change.new_email == "other@xn--bcher-kva.example"

    recovery = services.recovery_request_create(nic_handle=customer.nic_handle,
                                                new_email="\uff52ecover@B\u00fccher.example",
                                                message="Lost my mailbox.")
    assert recovery.new_email == "recover@xn--bcher-kva.example"


@pytest.mark.parametrize("call", ["account_create", "email_change_request",
                                  "recovery_request_create"])
def test_services_refuse_an_address_with_an_invisible_character(customer, call):
    bad = "new@portal.example\u200b"
    with pytest.raises(ValidationError):
        if call == "account_create":
            make_customer(bad)
        elif call == "email_change_request":
            services.email_change_request(user=customer, new_email=bad)
        else:
            services.recovery_request_create(nic_handle=customer.nic_handle, new_email=bad,
                                             message="Lost my mailbox.")
    assert not User.objects.filter(email__contains="\u200b").exists()
    assert not EmailChangeRequest.objects.exists() and not RecoveryRequest.objects.exists()


# --- login and password reset -----------------------------------------------------------

def fullwidth(text):
    """Every ASCII letter, digit and @ of `text` as its fullwidth twin."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and (c.isalnum() or c == "@") else c
                   for c in text)


@pytest.mark.parametrize("login", ["nic", "email"])
def test_a_login_typed_with_fullwidth_letters_finds_the_account(client, customer, login):
    typed = fullwidth(customer.nic_handle if login == "nic" else customer.email)
    assert User.objects.get_by_login(typed) == customer
    client.post("/login/", {"username": typed, "password": PASSWORD})
    assert client.session[SESSION_KEY] == str(customer.pk)


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\u200d", "\x00"])
def test_a_login_with_an_invisible_character_matches_nothing(client, customer, char):
    for typed in (customer.nic_handle + char, customer.email + char):
        with pytest.raises(User.DoesNotExist):
            User.objects.get_by_login(typed)
        response = client.post("/login/", {"username": typed, "password": PASSWORD})
        assert response.status_code == 200
        assert SESSION_KEY not in client.session


def test_fullwidth_variants_of_a_login_share_its_failed_login_count(customer):
    key = customer.nic_handle.lower()
    for typed in (customer.nic_handle, fullwidth(customer.nic_handle), fullwidth(customer.email)):
        assert login_key(None, {"username": typed}) == key


def reset(client, login, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/password-reset/", {"login": login})


@pytest.mark.parametrize("login", ["nic", "email"])
def test_a_password_reset_typed_with_fullwidth_letters_reaches_the_account(
    client, customer, login, django_capture_on_commit_callbacks
):
    typed = fullwidth(customer.nic_handle if login == "nic" else customer.email)
    response = reset(client, typed, django_capture_on_commit_callbacks)
    assert response["Location"] == "/password-reset/done/"
    assert [message.to for message in mail.outbox] == [[customer.email]]


def test_a_password_reset_with_an_invisible_character_sends_nothing(
    client, customer, django_capture_on_commit_callbacks
):
    response = reset(client, customer.email + "\u200b", django_capture_on_commit_callbacks)
    assert response["Location"] == "/password-reset/done/"
    assert mail.outbox == []


# --- names --------------------------------------------------------------------------------

NAME_FIELDS = ["first_name", "last_name", "organisation", "address", "city", "zip"]
DANGEROUS = {
    "right-to-left override": "\u202e", "left-to-right override": "\u202d",
    "right-to-left embedding": "\u202b", "pop directional formatting": "\u202c",
    "right-to-left isolate": "\u2067", "pop directional isolate": "\u2069",
    "left-to-right mark": "\u200e", "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c", "tab": "\t", "newline": "\n", "nul": "\x00",
    "escape": "\x1b", "delete": "\x7f", "next line": "\x85", "line separator": "\u2028",
}


@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize("char", DANGEROUS.values(), ids=DANGEROUS.keys())
def test_signup_refuses_a_name_with_a_control_or_direction_character(db, field, char):
    form = SignupForm(signup_data(**{field: f"gnp{char}exe", "legal_form": "corporation"}))
    assert not form.is_valid()
    assert NAME_MESSAGE in form.errors[field]  # with Django's own message for NUL


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_the_profile_refuses_a_name_with_a_right_to_left_override(customer, field):
    form = ProfileForm(profile_data(customer, **{field: "\u202egnp.exe"}),
                       instance=customer)
    assert not form.is_valid()
    assert form.errors[field] == [NAME_MESSAGE]


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_the_account_refuses_a_name_with_a_control_character_wherever_it_is_edited(
    customer, field
):
    setattr(customer, field, "Calle\tMayor")
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert error.value.message_dict[field] == [NAME_MESSAGE]


def test_staff_cannot_save_a_name_with_a_right_to_left_override_in_admin(agent_client, customer):
    response = agent_client.post(f"/admin/accounts/user/{customer.pk}/change/",
                                 profile_data(customer, last_name="\u202egnp.exe"))
    assert response.status_code == 200
    assert NAME_MESSAGE in response.content.decode()
    customer.refresh_from_db()
    assert customer.last_name == "Martín"


@pytest.mark.parametrize("name", ["Ñúñez", "محمد", "\u05d9\u05e2\u05dc", "می\u200cخواهم",
                                  "\uff24aniel", "O’Brien-Smith", "Åsa Öberg"])
def test_names_in_any_script_are_kept_as_typed(db, name):
    form = SignupForm(signup_data(first_name=f" {name} ", city=name, organisation=name))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["first_name"] == name
    assert form.cleaned_data["city"] == name
