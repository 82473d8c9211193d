"""The built-in `{% url %}` tag, remembering its result: see
portal.templatetags.remembered_i18n. Used as a template builtin (settings:
OPTIONS["builtins"]), so it replaces Django's tag of the same name.

A URL without arguments is kept per language; one with plain arguments (an invoice
number, an id) is kept too, up to ARGUMENTS_KEPT per node (then the node starts afresh):
a list repeats the same tag for each row, reversing costs tens of microseconds, and a
customer reloads the same pages."""

from django import template
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

from portal.templatetags.remembered_i18n import is_constant

register = template.Library()

ARGUMENTS_KEPT = 1000


class RememberedURLNode(defaulttags.URLNode):
    def __init__(self, node: defaulttags.URLNode):
        super().__init__(node.view_name, node.args, node.kwargs, node.asvar)
        self.constant = self.asvar is None and is_constant(self.view_name)
        self.remembered: dict[tuple, str] = {}

    def key(self, context):
        """What the URL depends on: the language, the URL configuration, the script
        prefix, the current application (the same lookup as Django's node) and the
        arguments; None when an argument is not a plain string or number."""
        values = [arg.resolve(context) for arg in self.args]
        values += [(name, value.resolve(context)) for name, value in self.kwargs.items()]
        if any(type(value if not isinstance(value, tuple) else value[1]) not in (str, int)
               for value in values):
            return None
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        return (get_language(), context.autoescape, get_urlconf(), get_script_prefix(),
                current_app, *values)

    def render(self, context):
        key = self.key(context) if self.constant else None
        if key is None:
            return super().render(context)
        value = self.remembered.get(key)
        if value is None:
            value = super().render(context)
            if len(self.remembered) >= ARGUMENTS_KEPT:
                self.remembered.clear()
            self.remembered[key] = value
        return value


@register.tag("url")
def url(parser, token):
    return RememberedURLNode(defaulttags.url(parser, token))
