"""The sender's name is in the recipient's language."""

import pytest
from django.core import mail

from notifications.delivery import email_deliver, sender_address
from notifications.services import email_queue

pytestmark = pytest.mark.django_db


def test_the_default_sender_name_is_translated_per_language(settings):
    settings.DEFAULT_FROM_EMAIL = "Customer portal <no-reply@portal.example>"
    assert sender_address("en") == "Customer portal <no-reply@portal.example>"
    assert sender_address("es").endswith(" <no-reply@portal.example>")
    assert sender_address("es") != sender_address("en")
    assert sender_address("fr") != sender_address("en")


def test_a_name_set_in_the_environment_goes_out_as_written(settings):
    settings.DEFAULT_FROM_EMAIL = "ACME Hosting <noreply@acme.example>"
    assert sender_address("es") == "ACME Hosting <noreply@acme.example>"
    settings.DEFAULT_FROM_EMAIL = "noreply@acme.example"
    assert sender_address("fr") == "noreply@acme.example"


def test_a_sent_email_carries_the_recipients_sender_name(customer, settings):
    settings.DEFAULT_FROM_EMAIL = "Customer portal <no-reply@portal.example>"
    customer.language = "fr"
    customer.save()
    email = email_queue(template="password_changed", to=customer.email, user=customer,
                        context={})
    email_deliver(email_id=email.pk)
    message, = mail.outbox
    assert message.from_email == sender_address("fr")
    assert message.message()["From"].endswith("<no-reply@portal.example>")
