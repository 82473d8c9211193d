"""Forms rendered once: a crispy form that nobody has filled in yet is the same HTML
for every visitor in one language, apart from the CSRF token. Rendering it field by
field (bootstrap templates, and 250 options for a country list) was most of the time
of the signup and security pages, so it is rendered once per process and language and
served from memory, with the visitor's own token put in.

`{% crispy_once form %}` stands for `{% crispy form %}` and `{{ form|crispy_once }}` for
`{{ form|crispy }}`. Use them only for forms whose unbound HTML depends on nothing but
their class, the language and `initial` (no per-customer choices). A bound form (one
sent back with errors) is rendered as usual, every time."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import template
from django.conf import settings
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# What `{% csrf_token %}` is given while the form is rendered once; each response
# replaces it with its own token. Letters only: no escaping changes it.
TOKEN_PLACEHOLDER = "csrfTokenPlaceholderWrittenOnceForEveryResponse"
_CRISPY_TAG = template.Template("{% load crispy_forms_tags %}{% crispy form %}")
_rendered: dict[tuple, str] = {}


def _key(kind, form):
    """The form's key in the memory, or None when it must be rendered every time."""
    if form.is_bound or settings.DEBUG:  # DEBUG: template edits show at once
        return None
    initial = []
    for name, value in sorted(form.initial.items()):
        if not isinstance(value, str | int | bool | type(None)):
            return None
        initial.append((name, value))
    cls = type(form)
    return (kind, cls.__module__, cls.__qualname__, form.prefix, get_language(), tuple(initial))


@register.simple_tag(takes_context=True)
def crispy_once(context, form):
    """`{% crispy form %}`, rendered once per form class, language and initial values."""
    token = context.get("csrf_token")
    key = _key("tag", form)
    if key is None or not token or str(token) == "NOTPROVIDED":
        with context.push(form=form):
            return _CRISPY_TAG.render(context)
    html = _rendered.get(key)
    if html is None:
        html = _CRISPY_TAG.render(template.Context(
            {"form": form, "csrf_token": TOKEN_PLACEHOLDER}, autoescape=context.autoescape))
        _rendered[key] = html
    return mark_safe(html.replace(TOKEN_PLACEHOLDER, str(token)))


@register.filter(name="crispy_once")
def crispy_once_filter(form):
    """`{{ form|crispy }}`, rendered once per form class, language and initial values."""
    key = _key("filter", form)
    if key is None:
        return as_crispy_form(form)
    html = _rendered.get(key)
    if html is None:
        html = _rendered[key] = as_crispy_form(form)
    return html
