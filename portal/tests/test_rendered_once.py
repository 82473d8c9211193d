"""Speed-ups that must not change what a customer sees: forms rendered once per
language (portal.templatetags.portal_forms) and choice labels (portal.db.ChoiceLabels)."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django.template import Context, Template
from django.utils import translation

from accounts.forms import SignupForm
from billing.models import Service
from notifications.models import OutboundEmail
from portal.templatetags import portal_forms

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_memory():
    portal_forms._rendered.clear()
    yield
    portal_forms._rendered.clear()


def render(source, **context):
    return Template("{% load crispy_forms_tags portal_forms %}" + source).render(
        Context(context))


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_form_rendered_once_is_the_html_crispy_renders(language):
    with translation.override(language):
        form = SignupForm(initial={"language": language})
        once = render("{% crispy_once form %}", form=form, csrf_token="tokenA")
        again = render("{% crispy_once form %}", form=form, csrf_token="tokenB")
        direct = render("{% crispy form %}", form=form, csrf_token="tokenA")
    assert once == direct
    assert again == direct.replace("tokenA", "tokenB")
    assert 'name="country"' in once and 'name="password1"' in once


def test_each_language_gets_its_own_rendering():
    with translation.override("fr"):
        french = render("{% crispy_once form %}", form=SignupForm(), csrf_token="t")
    with translation.override("es"):
        spanish = render("{% crispy_once form %}", form=SignupForm(), csrf_token="t")
    assert "Pays" in french and "País" in spanish


def test_a_form_sent_back_with_errors_is_rendered_with_them_every_time():
    form = SignupForm(data={"first_name": "Ana"})
    assert not form.is_valid()
    html = render("{{ form|crispy_once }}", form=form)
    assert html == as_crispy_form(form)
    assert 'value="Ana"' in html and "invalid-feedback" in html
    assert portal_forms._rendered == {}


def test_the_signup_page_carries_the_visitors_own_csrf_token(client):
    first = client.get("/signup/").content.decode()
    token = client.cookies["csrftoken"].value
    assert portal_forms.TOKEN_PLACEHOLDER not in first
    assert 'name="csrfmiddlewaretoken"' in first and token
    other = type(client)().get("/signup/").content.decode()
    assert first.split('name="csrfmiddlewaretoken" value="')[1][:64] != \
        other.split('name="csrfmiddlewaretoken" value="')[1][:64]


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_choice_labels_are_djangos_labels_in_the_active_language(language):
    email = OutboundEmail(status=OutboundEmail.Status.FAILED)
    service = Service(status=Service.Status.ACTIVE, period="year")
    with translation.override(language):
        for obj, field in ((email, "status"), (service, "status"), (service, "period")):
            model_field = type(obj)._meta.get_field(field)
            expected = str(dict(model_field.flatchoices)[getattr(obj, field)])
            assert getattr(obj, f"get_{field}_display")() == expected


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert OutboundEmail(status="unheard-of").get_status_display() == "unheard-of"
