"""`{% translate %}` (and, in remembered_url, `{% url %}`) remembering what they render.

A page of the customer area holds a hundred or more `{% translate "..." %}` and a few
dozen `{% url "name" %}` tags whose result depends on nothing but the language (and
the URL configuration): the menu, the footer, the column headings. Looked up on every
request, through gettext's and the URL resolver's per-request state, they were about a
third of a page's rendering time. Each node here keeps its result for each language it
was rendered in (three at most), so the lookup happens once per process; tags whose
result depends on the context (a variable, a filter, URL arguments) behave exactly as
Django's.

The template engines use this module in place of Django's `i18n` library (settings:
OPTIONS["libraries"]["i18n"]) and portal.templatetags.remembered_url for the built-in
`url` tag (OPTIONS["builtins"]), so templates and `makemessages` see the usual syntax.
Translations and URLs change only with a new deployment, which starts new processes.
Nodes are shared by threads: nothing here changes a node while rendering."""

from django import template
from django.templatetags import i18n
from django.utils.translation import get_language

register = template.Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)


def is_constant(expression) -> bool:
    """Whether a FilterExpression is a literal string with no filter (the parser keeps
    a quoted string as it is, or as a Variable holding a literal)."""
    if expression.filters:
        return False
    var = expression.var
    return isinstance(var, str) or (isinstance(var, template.Variable)
                                    and var.literal is not None)


class RememberedTranslateNode(i18n.TranslateNode):
    def __init__(self, node: i18n.TranslateNode):
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        self.constant = self.asvar is None and is_constant(self.filter_expression) and (
            self.message_context is None or is_constant(self.message_context))
        self.remembered: dict[tuple, str] = {}

    def render(self, context):
        if not self.constant:
            return super().render(context)
        key = (get_language(), context.autoescape)
        value = self.remembered.get(key)
        if value is None:
            value = self.remembered[key] = super().render(context)
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    return RememberedTranslateNode(i18n.do_translate(parser, token))
