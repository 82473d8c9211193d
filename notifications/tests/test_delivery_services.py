import time

import pytest

from accounts.models import User
from conftest import signup_data
from notifications.models import OutboundEmail


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_signup_email_reaches_the_smtp_sink_through_redis_and_a_real_worker(
    postgres, celery_worker_live, smtp_sink, client
):
    address = f"sink-{time.time_ns()}@example.org"
    response = client.post("/signup/", signup_data(email=address, spare_email=""))
    assert response.status_code == 302
    user = User.objects.get(email=address)

    messages = smtp_sink.wait_for(address, timeout=60)
    assert len(messages) == 1
    message = messages[0]
    assert user.nic_handle in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert user.nic_handle in text and user.nic_handle in html
    assert "/signup/confirm/" in text

    deadline = time.monotonic() + 30
    row = OutboundEmail.objects.get(user=user)
    while row.status != OutboundEmail.Status.SENT and time.monotonic() < deadline:
        time.sleep(0.2)
        row.refresh_from_db()
    assert row.status == OutboundEmail.Status.SENT
    assert row.attempts == 1
