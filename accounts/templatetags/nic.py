from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def nic(handle):
    """A NIC handle inside a sentence, kept on one line (portal.css .nic): a line break
    after its hyphen ("in966221-" / "OVH") would be copied wrongly."""
    return format_html('<span class="nic">{}</span>', handle)
