import pytest

from accounts.models import User
from notifications.models import OutboundEmail
from notifications.tests.test_email_history import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = User.objects.create_superuser(email="support@portal.example",
                                          password="staff-portal-2026")
    client.force_login(staff)
    return client


def test_staff_see_a_failed_email_with_its_last_error(staff_client, customer):
    make_email(customer, "Welcome", status=OutboundEmail.Status.FAILED, attempts=8,
               last_error="Recipient refused: daniel@example.org: 550 no such user")
    page = staff_client.get("/admin/notifications/outboundemail/?status__exact=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "550 no such user" in text and customer.email in text


def test_staff_can_read_an_email_but_not_change_it(staff_client, customer):
    email = make_email(customer, "Welcome")
    page = staff_client.get(f"/admin/notifications/outboundemail/{email.pk}/change/")
    assert page.status_code == 200
    assert "Text of Welcome" in page.content.decode()
    assert staff_client.post(f"/admin/notifications/outboundemail/{email.pk}/change/",
                             {"subject": "Changed"}).status_code == 403
