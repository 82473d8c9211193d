import re
from html import escape

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from billing.models import Invoice
from portal.formats import format_money

register = template.Library()

# Columns a phone leaves out (number, amount due, status and actions stay).
WIDE = "d-none d-md-table-cell"
NUMBER_MARK = "~"  # stands for the invoice number in the links reversed once per page
# Date format characters with a strftime equivalent; other formats go through dateformat.
STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y"}


@register.simple_tag
def invoice_rows(invoices):
    """The rows of the invoice list, from `values()` dicts.

    The page is rendered for each request, from rows the selector read (or found in the
    cache), so this is built for speed: everything that does not depend on the row (the
    links' URLs, the formats, the labels) is looked up once per page, and each row is
    one string. Twenty-five rows of a dozen template variables, 50 calls to reverse(), or
    Django's per-value date and number formatting would each cost more than the rest of
    the page. Every value from the database is escaped."""
    page_url = _around_number("billing:invoice")
    pdf_url = _around_number("billing:invoice-pdf")
    pay_url = _around_number("billing:invoice-pay")
    local_date = _date_formatter(get_format("SHORT_DATE_FORMAT"))
    tz = timezone.get_current_timezone()
    kinds = {kind: escape(str(label)) for kind, label in Invoice.Kind.choices}
    paid = f'<span class="badge text-bg-success">{escape(gettext("Paid"))}</span>'
    unpaid = (f'<span class="badge text-bg-warning text-wrap">'
              f'{escape(gettext("Awaiting payment"))}</span>')
    overdue = (f'<span class="badge text-bg-danger invoice-overdue">'
               f'{escape(pgettext("invoice", "Overdue"))}</span>')
    settled = (f'<span class="badge text-bg-secondary">'
               f'{escape(pgettext("invoice", "Settled by credit note"))}</span>')
    pdf = escape(gettext("PDF"))
    pay = escape(gettext("Pay"))
    # Column names again on each cell: a phone shows a row as a card (portal.css .table-stack).
    label = {name: escape(text) for name, text in (
        ("number", gettext("Number")), ("date", gettext("Date")), ("due", gettext("Due date")),
        ("kind", gettext("Kind")), ("total", gettext("Total incl. tax")),
        ("amount_due", gettext("Amount due")), ("status", gettext("Status")),
        ("pdf", gettext("Download")))}
    rows = []
    for invoice in invoices:
        number = escape(invoice["number"])
        due = invoice["due_at"]
        if invoice["paid_at"]:
            status = paid
        elif invoice["amount_due"] <= 0:
            status = settled  # by credit notes or account credit, nothing left to pay
        else:
            status = overdue if invoice["overdue"] else unpaid
        # Beside the status, so that a phone shows it without the wide columns.
        action = (f' <a class="btn btn-sm btn-primary invoice-pay" '
                  f'href="{pay_url[0]}{number}{pay_url[1]}">{pay}</a>'
                  if invoice["amount_due"] > 0 else "")
        row_class = ' class="table-danger"' if invoice["overdue"] and action else ""
        rows.append(
            f'<tr{row_class}>'
            f'<td class="text-nowrap" data-label="{label["number"]}">'
            f'<a href="{page_url[0]}{number}{page_url[1]}" class="font-monospace">{number}</a></td>'
            f'<td class="{WIDE}" data-label="{label["date"]}">'
            f'{escape(local_date(invoice["issued_at"].astimezone(tz)))}</td>'
            f'<td class="{WIDE}" data-label="{label["due"]}">'
            f'{escape(local_date(due.astimezone(tz))) if due else ""}</td>'
            f'<td class="{WIDE}" data-label="{label["kind"]}">{kinds[invoice["kind"]]}</td>'
            f'<td class="text-end text-nowrap {WIDE}" data-label="{label["total"]}">'
            f'{escape(format_money(invoice["total"], invoice["currency"]))}</td>'
            f'<td class="text-end text-nowrap invoice-amount-due" data-label="{label["amount_due"]}">'
            f'{escape(format_money(invoice["amount_due"], invoice["currency"]))}</td>'
            f'<td data-label="{label["status"]}">{status}{action}</td>'
            f'<td class="text-end" data-label="{label["pdf"]}">'
            f'<a href="{pdf_url[0]}{number}{pdf_url[1]}">{pdf}</a></td></tr>'
        )
    return mark_safe("\n".join(rows))


def _around_number(view_name):
    """(before, after) the invoice number in the URL of `view_name`, HTML-escaped."""
    before, after = reverse(view_name, args=[NUMBER_MARK]).rsplit(NUMBER_MARK, 1)
    return escape(before), escape(after)


def _date_formatter(django_format):
    """A function formatting a date as `django_format` does: strftime when the format
    only has day, month and year numbers (as the short date formats of the portal's
    languages do), which is much faster than Django's dateformat."""
    letters = set(re.findall(r"[a-zA-Z\\]", django_format))
    if not letters <= STRFTIME.keys():
        return lambda value: dateformat.format(value, django_format)
    pattern = "".join(STRFTIME.get(char, char.replace("%", "%%")) for char in django_format)
    return lambda value: value.strftime(pattern)
