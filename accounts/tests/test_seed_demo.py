"""`make run`'s demo data: a customer with something in every billing page, an agent in
the Support group who is no superuser, and a separate superuser."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.management.commands.seed_demo import demo_authenticator
from accounts.models import User
from billing.models import Invoice, Order, Service
from billing.tests.conftest import catalogue_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    for code in ("domain-com", "web-hosting"):
        catalogue_product(code)


def test_the_demo_customer_has_services_orders_and_invoices():
    call_command("seed_demo", stdout=StringIO())
    customer = User.objects.get(email="demo@portal.example")
    services = Service.objects.filter(customer=customer)
    soon = timezone.now() + timedelta(days=30)
    assert services.filter(status=Service.Status.ACTIVE, expires_at__lte=soon).exists()
    invoices = Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED)
    assert invoices.filter(paid_at__isnull=False).exists()
    assert invoices.filter(paid_at__isnull=True).exists()
    assert Order.objects.filter(customer=customer).count() == 3


def test_the_demo_agent_is_in_the_support_group_and_no_superuser():
    call_command("seed_demo", stdout=StringIO())
    agent = User.objects.get(nic_handle="ss000001-OVH")
    admin = User.objects.get(email="admin@portal.example")
    assert agent.is_staff and not agent.is_superuser
    assert list(agent.groups.values_list("name", flat=True)) == ["Support"]
    assert admin.is_superuser and admin.pk != agent.pk
    assert demo_authenticator(agent).confirmed and demo_authenticator(admin).confirmed


def test_running_it_twice_changes_nothing(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Order.objects.count(), Invoice.objects.count(),
              Service.objects.count())
    call_command("seed_demo")
    assert counts == (User.objects.count(), Order.objects.count(), Invoice.objects.count(),
                      Service.objects.count())
    printed = capsys.readouterr().out
    assert "dm429850-OVH" in printed and "ss000001-OVH" in printed and "sa000002-OVH" in printed
    assert "authenticator seed" in printed


def test_an_older_demo_agent_that_was_a_superuser_is_put_back_in_its_role():
    call_command("seed_demo", stdout=StringIO())
    User.objects.filter(nic_handle="ss000001-OVH").update(is_superuser=True)
    call_command("seed_demo", stdout=StringIO())
    assert not User.objects.get(nic_handle="ss000001-OVH").is_superuser


def test_it_prints_the_demo_staffs_current_code(capsys):
    from conftest import totp_code
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", code="SS000001-ovh")
    device = demo_authenticator(User.objects.get(nic_handle="ss000001-OVH"))
    assert capsys.readouterr().out.strip() == totp_code(device)
