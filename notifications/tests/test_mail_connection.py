import smtplib
from unittest import mock

import pytest

from notifications import delivery
from notifications.delivery import email_deliver
from notifications.models import OutboundEmail
from notifications.services import email_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend():
    """A stand-in for the SMTP backend: records open, send and close."""
    delivery.mail_connection_close()
    fake = mock.Mock(name="backend")
    fake.send_messages.return_value = 1
    with mock.patch("notifications.delivery.get_connection", return_value=fake) as made:
        fake.made = made
        yield fake
    delivery.mail_connection_close()


def queue(user):
    return email_queue(template="password_changed", to=user.email, user=user,
                       context={"ip": "198.51.100.7", "how": "change"})


def test_consecutive_deliveries_share_one_connection(customer, backend):
    rows = [queue(customer) for _ in range(3)]
    for row in rows:
        assert email_deliver(email_id=row.pk)
    assert backend.made.call_count == 1 and backend.open.call_count == 1
    assert backend.send_messages.call_count == 3
    backend.close.assert_not_called()
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_a_failed_send_closes_the_connection_and_the_next_email_opens_a_new_one(customer,
                                                                                 backend):
    first, second = queue(customer), queue(customer)
    backend.send_messages.side_effect = smtplib.SMTPServerDisconnected("gone")
    with pytest.raises(delivery.TemporaryDeliveryError):
        email_deliver(email_id=first.pk)
    backend.close.assert_called_once()

    backend.send_messages.side_effect = None
    assert email_deliver(email_id=second.pk)
    assert backend.open.call_count == 2


def test_a_connection_idle_for_too_long_is_closed_and_opened_again(customer, backend):
    first, second = queue(customer), queue(customer)
    email_deliver(email_id=first.pk)
    later = delivery._open.last_used + delivery.MAIL_CONNECTION_MAX_IDLE + 1
    with mock.patch("notifications.delivery.time.monotonic", return_value=later):
        email_deliver(email_id=second.pk)
    backend.close.assert_called_once()
    assert backend.open.call_count == 2
