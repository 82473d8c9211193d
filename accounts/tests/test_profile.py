import pytest

from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db


def profile_data(customer, **overrides):
    data = {
        "first_name": customer.first_name, "last_name": customer.last_name,
        "legal_form": customer.legal_form, "organisation": customer.organisation,
        "address": customer.address, "zip": customer.zip, "city": customer.city,
        "country": str(customer.country), "phone": customer.phone,
        "spare_email": customer.spare_email, "language": customer.language,
        "login_notifications": "on" if customer.login_notifications else "",
    }
    data.update(overrides)
    return data


def test_my_account_shows_the_data_with_a_modify_button(customer_client, customer):
    page = customer_client.get("/account/profile/").content.decode()
    assert customer.nic_handle in page and "Calle Mayor" in page and "+34 912 34 56 78" in page
    assert 'href="/account/profile/edit/"' in page and "Modify" in page


def test_the_menu_leads_to_my_account(customer_client):
    page = customer_client.get("/account/").content.decode()
    assert 'href="/account/profile/" id="my-account-link"' in page


def test_accept_saves_the_changes_and_says_so(customer_client, customer):
    response = customer_client.post("/account/profile/edit/", profile_data(
        customer, city="Sevilla", phone="+34 954 00 00 00", spare_email="Spare@Example.net",
        login_notifications=""), follow=True)
    assert response.redirect_chain[-1][0] == "/account/profile/"
    assert "Your information has been updated." in response.content.decode()
    customer.refresh_from_db()
    assert customer.city == "Sevilla"
    assert customer.phone == "+34954000000"
    assert customer.spare_email == "spare@example.net"
    assert customer.login_notifications is False


def test_each_change_is_logged_by_field_name(customer_client, customer):
    customer_client.post("/account/profile/edit/", profile_data(customer, city="Sevilla",
                                                                  first_name="Dani"))
    event = SecurityEvent.objects.get(user=customer, action=SecurityEvent.Action.PROFILE_CHANGED)
    assert event.detail == {"fields": ["city", "first_name"]}


def test_nothing_changed_logs_nothing(customer_client, customer):
    response = customer_client.post("/account/profile/edit/", profile_data(customer), follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert not SecurityEvent.objects.filter(action=SecurityEvent.Action.PROFILE_CHANGED).exists()


def test_the_nic_handle_and_primary_email_cannot_be_edited(customer_client, customer):
    handle, email = customer.nic_handle, customer.email
    customer_client.post("/account/profile/edit/", profile_data(
        customer, nic_handle="hacked-OVH", email="hacker@example.org", city="Bilbao"))
    customer.refresh_from_db()
    assert (customer.nic_handle, customer.email, customer.city) == (handle, email, "Bilbao")
    page = customer_client.get("/account/profile/edit/").content.decode()
    assert 'name="nic_handle"' not in page and 'name="email"' not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"spare_email": "DANIEL@example.org"}, "The spare address must differ"),
        ({"phone": "call me"}, "not valid in international format"),
        ({"first_name": ""}, "This field is required."),
        ({"legal_form": "association", "organisation": ""}, "Enter the name of your organisation."),
        ({"language": "xx"}, "Select a valid choice."),
    ],
)
def test_bad_input_gets_a_message_and_saves_nothing(customer_client, customer, overrides, message):
    response = customer_client.post("/account/profile/edit/",
                                    profile_data(customer, city="Nowhere", **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    customer.refresh_from_db()
    assert customer.city == "Madrid"


def test_an_invalid_submission_does_not_show_in_the_menu(customer_client, customer):
    response = customer_client.post("/account/profile/edit/",
                                    profile_data(customer, first_name="Zed", phone="bad"))
    page = response.content.decode()
    menu = page[page.index('id="account-menu"'):page.index('aria-labelledby="account-menu"')]
    assert "Daniel" in menu and "Zed" not in menu


def test_the_profile_pages_need_a_login(client):
    for url in ("/account/profile/", "/account/profile/edit/"):
        assert client.get(url)["Location"].startswith("/login/")


def test_another_customer_sees_only_their_own_profile(client, customer, other_customer):
    client.force_login(other_customer)
    page = client.get("/account/profile/").content.decode()
    assert other_customer.nic_handle in page and customer.nic_handle not in page
    client.post("/account/profile/edit/", profile_data(other_customer, city="Lyon",
                                                         address="3 rue", zip="69001",
                                                         country="FR", phone="+33472000000"))
    customer.refresh_from_db()
    assert customer.city == "Madrid"


def test_the_spanish_page_uses_the_guide_labels(customer_client, customer):
    customer.language = "es"
    customer.save()
    page = customer_client.get("/account/profile/").content.decode()
    assert "Mi cuenta" in page and "Modificar" in page
    assert "Aceptar" in customer_client.get("/account/profile/edit/").content.decode()
