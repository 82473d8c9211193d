"""The built-in `{% url %}` tag, remembering its result when it names a view without
arguments: see portal.templatetags.remembered_i18n. Used as a template builtin
(settings: OPTIONS["builtins"]), so it replaces Django's tag of the same name."""

from django import template
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf

from portal.templatetags.remembered_i18n import is_constant, remembered

register = template.Library()


class RememberedURLNode(defaulttags.URLNode):
    def __init__(self, node: defaulttags.URLNode):
        super().__init__(node.view_name, node.args, node.kwargs, node.asvar)
        self.constant = (not self.args and not self.kwargs and self.asvar is None
                         and is_constant(self.view_name))
        self.remembered: dict[tuple, str] = {}

    def key_extra(self, context):
        """What else the URL depends on: the URL configuration, the script prefix, and
        the current application (the same lookup as Django's node)."""
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        return get_urlconf(), get_script_prefix(), current_app

    def render(self, context):
        if not self.constant:
            return super().render(context)
        return remembered(self, context, super().render)


@register.tag("url")
def url(parser, token):
    return RememberedURLNode(defaulttags.url(parser, token))
