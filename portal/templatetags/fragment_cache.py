"""`{% fragment_cache "name" value ... %}…{% endfragment_cache %}`: a part of a page drawn
once for the data it shows, then read from the cache.

The key is made of the data itself, not of a version someone must remember to change:
the view still reads its rows (a query is cheap next to drawing twenty rows with
Django's template engine), and the fragment is drawn again exactly when a value it is
given changes. Also in the key: the fragment's name, the active language and time zone,
the script prefix and the code's own version (`code_version`: templates, translations
and Python files), so a deploy never serves markup drawn by the code before it.

Pass every value the fragment reads (rows, `user.pk`, …). Values may be plain data,
lists, dicts, dataclasses, lazy translations, pages of rows and model instances (their
loaded fields, the related rows loaded with them and their prefetched rows); anything
else is refused (TypeError), since an object whose representation does not hold its data
would serve another object's rows.

`{% csrf_token %}` inside a fragment works: the fragment is drawn with a placeholder,
replaced by the request's own token each time it is served.

FRAGMENT_CACHE_SECONDS = 0 turns the cache off; a cache outage draws the fragment
(portal.cache.cached)."""

import dataclasses
import datetime
import hashlib
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path

from django import template
from django.conf import settings
from django.core.paginator import Page
from django.db.models import Model
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language

from portal.cache import cached

register = template.Library()

CSRF_PLACEHOLDER = "csrf-token-placeholder-c5b0f1d2e3a4"
_PLAIN = (type(None), bool, int, float, str, bytes, Decimal, datetime.date, datetime.time,
          datetime.timedelta, uuid.UUID)
_PLAIN_TYPES = frozenset((*_PLAIN, datetime.datetime))  # exact types: the common case
_CODE_SUFFIXES = {".html", ".txt", ".mo", ".py"}
_NOT_CODE = {".venv", "var", "node_modules", ".git", "__pycache__", "media", "staticfiles"}


@cache
def code_version() -> str:
    """A digest of the project's templates, compiled translations and Python files, read
    once per process: machines running the same code agree on it and share fragments."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for path in sorted(_code_files(root)):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _code_files(folder: Path):
    for path in folder.iterdir():
        if path.is_dir():
            if path.name not in _NOT_CODE and not path.name.startswith("."):
                yield from _code_files(path)
        elif path.suffix in _CODE_SUFFIXES:
            yield path


def fingerprint(value, _within: frozenset = frozenset()) -> object:
    """`value` as plain, comparable data whose repr changes whenever what a template can
    read from it changes. (`_within`: the model instances being described, so a row
    cached on its own related row, an order on its invoice, is named, not described
    again.)"""
    if type(value) in _PLAIN_TYPES or isinstance(value, _PLAIN):
        return value
    if isinstance(value, Promise):  # a lazy translation: its text in the active language
        return str(value)
    if isinstance(value, (list, tuple)):
        return [fingerprint(item, _within) for item in value]
    if isinstance(value, dict):
        return sorted((repr(key), fingerprint(item, _within)) for key, item in value.items())
    names = _dataclass_fields(type(value))
    if names is not None:
        return [type(value).__qualname__,
                *(item if type(item) in _PLAIN_TYPES else fingerprint(item, _within)
                  for item in map(value.__getattribute__, names))]
    if isinstance(value, Page):
        return ["page", value.number, value.paginator.num_pages,
                fingerprint(list(value.object_list), _within)]
    if isinstance(value, Model):
        if id(value) in _within:
            return [value._meta.label, value.pk]
        return _model_fingerprint(value, _within | {id(value)})
    raise TypeError(f"{type(value).__qualname__} cannot key a cached fragment")


@cache
def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass (None for any other class), once per class."""
    if dataclasses.is_dataclass(kind):
        return tuple(field.name for field in dataclasses.fields(kind))
    return None


def _model_fingerprint(instance: Model, within: frozenset) -> list:
    # Attributes in the order the instance got them (the same for the same query).
    fields = [(name, item if type(item) in _PLAIN_TYPES else fingerprint(item, within))
              for name, item in vars(instance).items() if name[0] != "_"]
    related = sorted((name, fingerprint(item, within))
                     for name, item in instance._state.fields_cache.items())
    prefetched = sorted((name, fingerprint(list(rows), within))
                        for name, rows in getattr(instance, "_prefetched_objects_cache",
                                                  {}).items())
    return [instance._meta.label, fields, related, prefetched]


class FragmentCacheNode(template.Node):
    def __init__(self, name, values, nodelist):
        self.name, self.values, self.nodelist = name, values, nodelist

    def render(self, context):
        timeout = settings.FRAGMENT_CACHE_SECONDS
        if not timeout:
            return self.nodelist.render(context)
        data = [fingerprint(value.resolve(context)) for value in self.values]
        digest = hashlib.sha256(repr((
            code_version(), self.name.resolve(context), get_language(),
            timezone.get_current_timezone_name(), get_script_prefix(), data,
        )).encode()).hexdigest()

        def draw():
            with context.push(csrf_token=CSRF_PLACEHOLDER):
                return self.nodelist.render(context)

        html = cached(f"fragment:{digest}", draw, timeout=timeout)
        if CSRF_PLACEHOLDER in html:
            html = html.replace(CSRF_PLACEHOLDER, str(context.get("csrf_token") or ""))
        return html


@register.tag("fragment_cache")
def do_fragment_cache(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f"'{bits[0]}' takes a fragment name and the values the fragment shows")
    nodelist = parser.parse(("endfragment_cache",))
    parser.delete_first_token()
    return FragmentCacheNode(parser.compile_filter(bits[1]),
                             [parser.compile_filter(bit) for bit in bits[2:]], nodelist)
