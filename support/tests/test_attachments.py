"""Attachments: checked by size, count and content (not by name), stored under
MEDIA_ROOT with a random name, served only to their owner and staff, as a download
under a safe name."""

import pytest

from support.attachments import MAX_SIZE, attachment_safe_name
from support.models import SupportAttachment, SupportRequest
from support.tests.conftest import PDF, jpeg_bytes, open_request, png_bytes, upload

pytestmark = pytest.mark.django_db

FORM = {"category": "technical", "subject": "Broken", "body": "See attached."}


def post(client, *files):
    return client.post("/account/support/new/", {**FORM, "attachments": list(files)})


def refusal(response):
    assert response.status_code == 200
    assert not SupportRequest.objects.exists()
    return " ".join(response.context["form"].errors["attachments"])


def test_a_file_over_the_size_limit_is_refused_with_a_message(customer_client):
    big = upload("big.pdf", PDF + b"0" * MAX_SIZE)
    assert refusal(post(customer_client, big)) == "big.pdf is larger than 5 MB."


def test_a_program_named_like_a_pdf_is_refused(customer_client):
    program = upload("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64,
                     content_type="application/pdf")
    assert refusal(post(customer_client, program)) == (
        "invoice.pdf is not a PDF, PNG, JPEG or plain-text file.")


def test_html_is_not_taken_for_plain_text_by_its_name(customer_client):
    # Text it is, by content: it is stored as text/plain and downloaded as .txt.
    post(customer_client, upload("page.html", b"<script>alert(1)</script>", "text/html"))
    attachment = SupportAttachment.objects.get()
    assert (attachment.content_type, attachment.name) == ("text/plain", "page.txt")


def test_a_fake_png_is_refused(customer_client):
    fake = upload("shot.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    assert "not a PDF, PNG, JPEG" in refusal(post(customer_client, fake))


def test_more_than_three_files_are_refused(customer_client):
    files = [upload(f"n{n}.txt", b"note") for n in range(4)]
    assert refusal(post(customer_client, *files)) == "Attach at most 3 files."


def test_the_type_comes_from_the_content_not_the_name(customer_client):
    post(customer_client, upload("photo.pdf", jpeg_bytes()))
    attachment = SupportAttachment.objects.get()
    assert (attachment.content_type, attachment.name) == ("image/jpeg", "photo.jpg")


def test_the_file_is_stored_under_the_media_root_with_a_random_name(customer_client,
                                                                   media_root):
    post(customer_client, upload("../../etc/passwd.txt", b"hello"))
    attachment = SupportAttachment.objects.get()
    path = (media_root / attachment.file.name).resolve()
    assert path.is_relative_to(media_root.resolve() / "support")
    assert "passwd" not in attachment.file.name
    assert path.read_bytes() == b"hello"


@pytest.mark.parametrize("typed,expected", [
    ('evil"\r\nSet-Cookie: a=b.png', "evil-Set-Cookie-a-b.png"),
    ("../../../etc/passwd", "passwd.txt"),
    ("résumé été.pdf", "resume-ete.pdf"),
    ("....", "attachment.txt"),
    ("a" * 300 + ".pdf", "a" * 72 + ".pdf"),
])
def test_the_download_name_cannot_inject_a_header_or_a_path(typed, expected):
    content_type = {"png": "image/png", "pdf": "application/pdf"}.get(expected[-3:],
                                                                      "text/plain")
    assert attachment_safe_name(typed, content_type) == expected


def test_the_owner_downloads_it_as_an_attachment(customer_client, customer):
    post(customer_client, upload('my "report".pdf', PDF))
    attachment = SupportAttachment.objects.get()
    response = customer_client.get(f"/account/support/attachments/{attachment.public_id}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my-report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_another_customer_gets_404_for_an_attachment(client, customer, other_customer):
    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    client.force_login(other_customer)
    assert client.get(f"/account/support/attachments/{attachment.public_id}/").status_code == 404


def test_a_visitor_is_sent_to_log_in_for_an_attachment(client, customer):
    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    response = client.get(f"/account/support/attachments/{attachment.public_id}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_support_agent_downloads_any_attachment(agent_client, customer):
    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    response = agent_client.get(f"/account/support/attachments/{attachment.public_id}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_staff_without_the_support_permission_get_404(client, customer):
    from conftest import make_customer

    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    staff = make_customer("staff@portal.example", first_name="Sam", last_name="Staff")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(f"/account/support/attachments/{attachment.public_id}/").status_code == 404


def test_the_files_are_not_served_under_media_url(customer_client, customer):
    open_request(customer, attachments=[upload("a.png", png_bytes())])
    attachment = SupportAttachment.objects.get()
    assert customer_client.get(f"/media/{attachment.file.name}").status_code == 404

