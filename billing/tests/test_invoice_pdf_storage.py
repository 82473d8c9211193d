"""Invoice PDFs go through the storage API only, so every web and worker machine can
share them in an S3-compatible bucket: stored, served and rendered again when lost, with
no file on the machine's disk."""

import pytest

from billing.models import Invoice
from billing.services import invoices
from billing.services.invoices import invoice_store_pdf
from billing.tasks import render_invoice_pdf_task
from portal.tests.storages import OverwritingStorage, bucket_keys, shared_storage  # noqa: F401

from .conftest import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(customer, hosting):
    return place_order(customer, hosting)[1]


def download(client, invoice):
    response = client.get(f"/billing/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_worker_stores_the_pdf_and_the_page_serves_it(shared_storage, customer_client,
                                                          invoice, request):
    render_invoice_pdf_task.delay(invoice.pk)
    name = Invoice.objects.get(pk=invoice.pk).pdf.name
    assert name == f"invoices/2026/{invoice.number}.pdf"
    with shared_storage.open(name, "rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-")
    assert download(customer_client, invoice) == content
    if "s3" in request.node.callspec.id:
        assert bucket_keys() == [f"portal/{name}"]


def test_a_pdf_lost_from_the_store_is_rendered_again(shared_storage, customer_client, invoice):
    name = invoice_store_pdf(invoice_id=invoice.pk)
    shared_storage.delete(name)
    assert download(customer_client, invoice).startswith(b"%PDF-")
    assert shared_storage.exists(name)


def test_another_customer_gets_404_from_the_shared_store(shared_storage, client, other_customer,
                                                         invoice):
    invoice_store_pdf(invoice_id=invoice.pk)
    client.force_login(other_customer)
    assert client.get(f"/billing/invoices/{invoice.number}/pdf/").status_code == 404


def test_two_renders_given_the_same_name_keep_the_one_file(settings, invoice, monkeypatch):
    """A store without exclusive create hands both renders the same name: the one that
    loses the race must not delete what the winner recorded."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "portal.tests.storages.OverwritingStorage"}}
    render = invoices.invoice_render_pdf
    racing = []

    def render_while_another_stores(**kwargs):
        if not racing:
            racing.append(True)
            invoice_store_pdf(invoice_id=invoice.pk)  # the other machine, meanwhile
        return render(**kwargs)

    monkeypatch.setattr(invoices, "invoice_render_pdf", render_while_another_stores)
    name = invoice_store_pdf(invoice_id=invoice.pk)
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == name
    from django.core.files.storage import default_storage

    assert isinstance(default_storage._wrapped, OverwritingStorage)
    assert default_storage.exists(name)
