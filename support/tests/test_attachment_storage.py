"""Support attachments go through the storage API only, so every web machine can share
them in an S3-compatible bucket: stored under a random name, downloaded by their owner
and staff, with no file on the machine's disk."""

import pytest

from portal.tests.storages import bucket_keys, shared_storage  # noqa: F401
from support.models import SupportAttachment
from support.tests.conftest import PDF, open_request, png_bytes, upload

pytestmark = pytest.mark.django_db

FORM = {"category": "technical", "subject": "Broken", "body": "See attached."}


def url(attachment):
    return f"/account/support/attachments/{attachment.public_id}/"


def test_an_uploaded_file_is_stored_and_downloaded_from_the_shared_store(
        shared_storage, customer_client, request):
    response = customer_client.post("/account/support/new/",
                                    {**FORM, "attachments": [upload("report.pdf", PDF)]})
    assert response.status_code == 302
    attachment = SupportAttachment.objects.get()
    assert attachment.file.name.startswith("support/")
    with shared_storage.open(attachment.file.name, "rb") as stored:
        assert stored.read() == PDF
    download = customer_client.get(url(attachment))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert b"".join(download.streaming_content) == PDF
    if "s3" in request.node.callspec.id:
        assert bucket_keys() == [f"portal/{attachment.file.name}"]


def test_staff_download_it_and_another_customer_gets_404(shared_storage, agent_client, client,
                                                          customer, other_customer):
    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    assert b"".join(agent_client.get(url(attachment)).streaming_content) == png_bytes()
    client.force_login(other_customer)
    assert client.get(url(attachment)).status_code == 404


def test_a_file_missing_from_the_store_is_a_404_not_a_500(shared_storage, customer_client,
                                                          customer):
    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    shared_storage.delete(attachment.file.name)
    assert customer_client.get(url(attachment)).status_code == 404
