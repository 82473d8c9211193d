"""Every HTML email has a non-empty <title> and reads on a 390 px phone: fluid width, at
most 600 px, no fixed-width table."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from notifications.rendering import email_context, email_render

EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
HTML_TEMPLATES = sorted(path for path in EMAILS.glob("*.html") if not path.name.startswith("_"))
FIXED_WIDTH = re.compile(r'width="(\d+)"|(?<![-\w])width:\s*(\d+)px|min-width:\s*(\d+)px')


@pytest.mark.parametrize("path", HTML_TEMPLATES, ids=lambda path: path.name)
def test_every_html_email_has_a_title(path):
    source = path.read_text()
    if path.name == "base.html":
        title = re.search(r"<title>(.*?)</title>", source).group(1)
        assert "{{ email_subject }}" in title
        return
    assert source.startswith('{% extends "emails/base.html" %}')
    own = re.search(r"{% block title %}(.*?){% endblock %}", source, re.S)
    assert own is None or own.group(1).strip(), "an empty title block"


@pytest.mark.parametrize("path", HTML_TEMPLATES, ids=lambda path: path.name)
def test_no_html_email_has_a_fixed_width_wider_than_a_phone(path):
    for match in FIXED_WIDTH.finditer(path.read_text()):
        width = int(next(group for group in match.groups() if group))
        assert width <= 320, f"{path.name}: {match.group(0)}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["es", "en", "fr"])
def test_the_rendered_title_is_the_subject(customer, language):
    parts = email_render(template="password_changed", language=language,
                         context=email_context(user=customer, values={"ip": "192.0.2.1"}))
    title = re.search(r"<title>(.*?)</title>", parts.html, re.S).group(1).strip()
    assert title and title == parts.subject.replace("'", "&#x27;").replace('"', "&quot;")
    assert "max-width:600px" in parts.html and 'width="600"' not in parts.html


@pytest.mark.django_db
@pytest.mark.parametrize("template", ["support_reply", "support_auto_closed"])
def test_an_emails_own_subject_variable_is_not_replaced_by_the_email_subject(customer, template):
    # Regression: the HTML part got the email's subject as "subject", so a support
    # email quoted its own subject line instead of the request's subject.
    parts = email_render(template=template, language="en", context=email_context(
        user=customer, values={"number": "SR000001", "subject": "My site <is> down",
                               "support_url": "https://portal.example/", "days": 14}))
    assert '"My site &lt;is&gt; down"' in parts.html
    assert '"My site <is> down"' in parts.text
    assert parts.subject in parts.html  # still the <title>
