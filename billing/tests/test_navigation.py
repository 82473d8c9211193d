import pytest

pytestmark = pytest.mark.django_db


def test_the_menu_links_to_services_orders_and_invoices(customer_client):
    page = customer_client.get("/account/").content.decode()
    start = page.index('class="navbar-nav me-auto"')
    menu = page[start:page.index("</ul>", start)]
    for url, label in (("/billing/services/", "Services"), ("/billing/orders/", "Orders"),
                       ("/billing/invoices/", "Invoices")):
        assert f'href="{url}">{label}</a>' in menu


def test_a_visitor_gets_no_billing_links(client):
    assert "/billing/" not in client.get("/login/").content.decode()
