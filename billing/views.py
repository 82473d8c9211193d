import logging
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import selectors
from billing.forms import AutoRenewForm, InvoiceFilterForm, OrderForm
from billing.models import Invoice, Order, Service
from billing.services.invoices import invoice_store_pdf
from billing.services.orders import order_place, order_quote
from billing.services.service_edits import service_set_auto_renew
from portal.cache import cached

log = logging.getLogger(__name__)

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _invoice_for(request, number):
    """The customer's own issued invoice, with its lines; anyone else's is a 404."""
    return get_object_or_404(
        Invoice.objects.prefetch_related("lines"),
        customer=request.user, number=number, status=Invoice.Status.ISSUED,
    )


@login_required
def services_list(request):
    services_page = _page(request, Service.objects.filter(customer=request.user)
                          .select_related("product").order_by("-created_at", "-pk"))
    return render(request, "billing/services.html", {"page": services_page})


@login_required
@require_POST
def service_auto_renew(request, pk):
    service = get_object_or_404(Service, pk=pk, customer=request.user)
    form = AutoRenewForm(request.POST)
    if form.is_valid():
        auto_renew = form.cleaned_data["auto_renew"]
        service_set_auto_renew(service=service, auto_renew=auto_renew)
        if auto_renew:
            message = _("%(name)s will renew automatically.")
        else:
            message = _("%(name)s will not renew automatically.")
        messages.success(request, message % {"name": service.name})
    return redirect("billing:services")


@login_required
def orders_list(request):
    orders = (Order.objects.filter(customer=request.user).select_related("invoice")
              .prefetch_related("lines__product", "lines__service").order_by("-created_at", "-pk"))
    return render(request, "billing/orders.html", {"page": _page(request, orders)})


@login_required
def order_detail(request, pk):
    orders = Order.objects.select_related("invoice").prefetch_related("lines__product",
                                                                       "lines__service")
    order = get_object_or_404(orders, pk=pk, customer=request.user)
    return render(request, "billing/order_detail.html", {"order": order})


@login_required
def order_new(request):
    """Step 1: choose a product, a period and a name. Step 2: review the price, then
    confirm; only the confirmation places the order."""
    if request.method != "POST":
        return render(request, "billing/order_new.html", {"form": OrderForm()})
    form = OrderForm(request.POST)
    if not form.is_valid():
        return render(request, "billing/order_new.html", {"form": form})
    data = form.cleaned_data
    quote = order_quote(product=data["product"], period=data["period"])
    confirming = "confirm" in request.POST and data["token"]
    if confirming and request.POST.get("quoted_total") != str(quote.total_amount):
        # The price changed since the customer saw it: show the new one to confirm.
        messages.warning(request, _("The price has changed since you saw it. Please check "
                                    "the new price and confirm again."))
        confirming = False
    if not confirming:
        return render(request, "billing/order_confirm.html", {
            "data": data, "quote": quote, "token": data["token"] or uuid.uuid4()})
    order = order_place(customer=request.user, product=data["product"],
                        period=data["period"], service_name=data["service_name"],
                        token=data["token"])
    messages.success(request, _("Thank you: your order is confirmed. Its invoice is below; "
                                "the service starts once it is paid."))
    return redirect("billing:order", pk=order.pk)


class CountedPaginator(Paginator):
    """A paginator given its count, already known from the per-year totals."""

    def __init__(self, object_list, per_page, *, count):
        super().__init__(object_list, per_page)
        self.count = count  # shadows the cached property: no COUNT query


@login_required
def invoices_list(request):
    """The customer's issued invoices, newest first, by pages of 25, filtered by year.

    The list is rendered once per page and per version of the customer's invoices (which
    changes in the transaction that issues or pays one; see billing.services), then read
    from the cache: a page seen again costs no query beyond the session and the user.
    A page rendered anew costs two more, whatever the number of invoices: the years with
    their counts (which also give the paginator its count), and the page's rows."""
    customer = request.user
    years = selectors.invoice_years(customer=customer)
    form = InvoiceFilterForm(request.GET or None, years=[year for year, _count in years])
    year = form.cleaned_data["year"] if form.is_valid() else None
    count = sum(n for y, n in years if y == year or not year)
    invoices = Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED)
    if year:
        invoices = invoices.filter(year=year)
    rows = invoices.order_by("-year", "-sequence").values(
        "number", "issued_at", "kind", "total", "currency", "paid_at")
    # Slicing the rows is lazy: they are read only when a page is rendered.
    page = CountedPaginator(rows, PAGE_SIZE, count=count).get_page(request.GET.get("page"))
    key = selectors.invoice_list_cache_key(customer, "page", year or "all", page.number,
                                           get_language(), timezone.get_current_timezone_name())
    invoice_list = cached(key, lambda: render_to_string("billing/_invoice_list.html", {
        "page": page, "years": years, "year": year,
        "query": urlencode({"year": year}) if year else "",
    }), timeout=settings.INVOICE_LIST_CACHE_SECONDS)
    return render(request, "billing/invoices.html", {"invoice_list": invoice_list})


@login_required
def invoice_detail(request, number):
    invoice = _invoice_for(request, number)
    return render(request, "billing/invoice_detail.html", {"invoice": invoice})


@login_required
def invoice_pdf(request, number):
    """The PDF stored when the invoice was issued. Rendered here only when it is missing
    (its worker has not run yet, or the file was lost), then stored for next time."""
    invoice = get_object_or_404(Invoice.objects.only("pk", "number", "pdf"), customer=request.user,
                                number=number, status=Invoice.Status.ISSUED)
    storage = invoice.pdf.storage
    try:
        handle = storage.open(invoice.pdf.name, "rb") if invoice.pdf else None
    except FileNotFoundError:
        handle = None
    if handle is None:
        log.warning("The PDF of invoice %s is not stored; rendering it now", invoice.number)
        handle = storage.open(invoice_store_pdf(invoice_id=invoice.pk), "rb")
    response = FileResponse(handle, content_type="application/pdf",
                            filename=f"{invoice.number}.pdf")
    response["Cache-Control"] = "private, max-age=3600"
    return response
