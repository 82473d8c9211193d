import pytest

pytestmark = pytest.mark.django_db


def test_the_menu_and_the_dashboard_link_to_support(customer_client):
    page = customer_client.get("/account/").content.decode()
    start = page.index('class="navbar-nav me-auto"')
    menu = page[start:page.index("</ul>", start)]
    assert 'href="/account/support/">Support</a>' in menu
    assert 'id="dashboard-support"' in page


def test_a_visitor_sees_the_contact_form_in_the_menu(client):
    page = client.get("/login/").content.decode()
    assert 'href="/contact/">Contact support</a>' in page
    assert "/account/support/" not in page
