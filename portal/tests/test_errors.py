from django import forms

from portal.errors import DomainError, form_add_domain_error


class AddressForm(forms.Form):
    email = forms.EmailField()


def test_a_refusal_about_a_field_shows_on_that_field():
    form = AddressForm({"email": "a@example.org"})
    assert form.is_valid()
    form_add_domain_error(form, DomainError("Taken.", field="email"))
    assert form.errors == {"email": ["Taken."]}


def test_a_refusal_about_a_field_the_form_lacks_shows_above_the_form():
    form = AddressForm({"email": "a@example.org"})
    form.is_valid()
    form_add_domain_error(form, DomainError("Too many requests.", field="password"))
    assert form.non_field_errors() == ["Too many requests."]
