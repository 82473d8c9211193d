import logging
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import selectors
from billing.forms import (
    AutoRenewForm,
    ContactAnswerForm,
    ContactChangeForm,
    InvoiceFilterForm,
    OrderForm,
)
from billing.models import (
    CREDIT_NOTE_PREFIX,
    ContactChangeRequest,
    CreditNote,
    Invoice,
    Service,
)
from billing.services import contacts as contact_services
from billing.services.bank_transfer import epc_qr_svg, transfer_instructions
from billing.money import CURRENCY
from billing.services.credit_notes import credit_note_store_pdf
from billing.services.invoices import invoice_store_pdf
from billing.services.orders import order_place, order_quote
from billing.services.service_edits import service_set_auto_renew
from portal.errors import DomainError, form_add_domain_error

log = logging.getLogger(__name__)


def _checked_number(number):
    """A NUL is no invoice number, and PostgreSQL refuses it in a query (a 500)."""
    if "\x00" in number:
        raise Http404("No such invoice")
    return number


def _invoice_for(request, number):
    """The customer's own issued invoice, with its lines, payments and credit notes
    (billing.selectors.customer_invoice, cached); anyone else's is a 404."""
    invoice = selectors.customer_invoice(user=request.user, number=_checked_number(number))
    if invoice is None:
        raise Http404("No such invoice")
    return invoice


@login_required
def services_list(request):
    page = selectors.service_list(user=request.user, page=request.GET.get("page"))
    return render(request, "billing/services.html", {"page": page})


@login_required
@require_POST
def service_auto_renew(request, pk):
    # Renewal is the administrator contact's to manage (the owner until it moves).
    service = get_object_or_404(Service, pk=pk, admin_contact=request.user)
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
    page = selectors.order_list(user=request.user, page=request.GET.get("page"))
    return render(request, "billing/orders.html", {"page": page})


@login_required
def order_detail(request, pk):
    order = selectors.order_detail(user=request.user, order_id=pk)
    if order is None:
        raise Http404
    return render(request, "billing/order_detail.html", {"order": order})


@login_required
def order_new(request):
    """Step 1: choose a product, a period and a name. Step 2: review the price, then
    confirm; only the confirmation places the order, at the price reviewed."""
    if request.method != "POST":
        return render(request, "billing/order_new.html",
                      {"form": OrderForm(), "catalogue": selectors.catalogue_rows()})
    form = OrderForm(request.POST)
    if not form.is_valid():
        return render(request, "billing/order_new.html", {"form": form})
    data = form.cleaned_data
    if "confirm" in request.POST and data["token"]:
        try:
            order = order_place(customer=request.user, product=data["product"],
                                period=data["period"], service_name=data["service_name"],
                                quoted_total=data["quoted_total"], token=data["token"])
        except DomainError as error:  # the price changed: review the new one
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Thank you: your order is confirmed. Its invoice is "
                                        "below; the service starts once it is paid."))
            return redirect("billing:order", pk=order.pk)
    return render(request, "billing/order_confirm.html", {
        "form": form, "data": data, "token": data["token"] or uuid.uuid4(),
        "quote": order_quote(product=data["product"], period=data["period"],
                             customer=request.user)})


@login_required
def invoices_list(request):
    """The customer's issued invoices by pages, filtered by year (see
    billing.selectors.invoice_list for what it costs)."""
    form = InvoiceFilterForm(request.GET)
    invoices = selectors.invoice_list(user=request.user,
                                      year=form.cleaned_data["year"] if form.is_valid() else None,
                                      page=request.GET.get("page"))
    return render(request, "billing/invoices.html", {
        "invoices": invoices, "page": invoices.page,
        "credit_notes": selectors.credit_note_rows(user=request.user),
        "query": urlencode({"year": invoices.year}) if invoices.year else "",
    })


def _invoice_page(request, number, template):
    invoice = _invoice_for(request, number)
    return render(request, template, {
        "invoice": invoice, "transfer": transfer_instructions(invoice=invoice),
        "overdue": invoice.is_overdue(timezone.now())})


def _is_credit_note(number):
    # Credit notes share the invoices' URLs (DESIGN.md), told apart by their prefix.
    return number.startswith(CREDIT_NOTE_PREFIX)


def _credit_note_for(request, number):
    """The customer's own credit note, with its lines; anyone else's is a 404."""
    return get_object_or_404(CreditNote.objects.select_related("invoice")
                             .prefetch_related("lines"),
                             customer=request.user, number=_checked_number(number))


@login_required
def invoice_detail(request, number):
    if _is_credit_note(number):
        return render(request, "billing/credit_note_detail.html",
                      {"note": _credit_note_for(request, number)})
    return _invoice_page(request, number, "billing/invoice_detail.html")


@login_required
def invoice_pay(request, number):
    """How to pay: the seller's account, the amount due, the reference and the EPC QR
    code; a paid invoice says so."""
    return _invoice_page(request, number, "billing/invoice_pay.html")


@login_required
def invoice_pay_qr(request, number):
    """The EPC QR code of the invoice's transfer, as an SVG image (404 once nothing is due)."""
    invoice = _invoice_for(request, number)
    transfer = transfer_instructions(invoice=invoice)
    if transfer is None:
        raise Http404("Nothing to pay")
    response = HttpResponse(epc_qr_svg(instructions=transfer), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def balance(request):
    """What the customer owes, what they paid and their account credit. The content is
    drawn once per version of the customer's invoices, which changes with anything it
    shows (templates/billing/balance.html); the data is read only when it is drawn."""
    user = request.user
    return render(request, "billing/balance.html", {
        "balance": SimpleLazyObject(lambda: selectors.account_balance_cached(user=user)),
        "currency": CURRENCY})


@login_required
def invoice_pdf(request, number):
    """The PDF stored when the invoice (or credit note) was issued. Rendered here only
    when it is missing (its worker has not run yet, or the file was lost), then stored
    for next time."""
    if _is_credit_note(number):
        return _credit_note_pdf(request, number)
    invoice = get_object_or_404(Invoice.objects.only("pk", "number", "pdf"), customer=request.user,
                                number=_checked_number(number), status=Invoice.Status.ISSUED)
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


def _credit_note_pdf(request, number):
    note = get_object_or_404(CreditNote.objects.only("pk", "number", "pdf"),
                             customer=request.user, number=_checked_number(number))
    storage = note.pdf.storage
    try:
        handle = storage.open(note.pdf.name, "rb") if note.pdf else None
    except FileNotFoundError:
        handle = None
    if handle is None:
        handle = storage.open(credit_note_store_pdf(credit_note_id=note.pk), "rb")
    response = FileResponse(handle, content_type="application/pdf", filename=f"{note.number}.pdf")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- /account/contacts/: contacts of services and contact-change requests ---------------


def _change_for_party(request, pk):
    """A request the customer must answer (holder or new contact); else 404."""
    return get_object_or_404(ContactChangeRequest,
                             Q(holder=request.user) | Q(target=request.user), pk=pk)


def _change_for_requester(request, pk):
    return get_object_or_404(ContactChangeRequest, requester=request.user, pk=pk)


@login_required
def contacts(request):
    overview = selectors.contacts_overview(user=request.user, page=request.GET.get("page"))
    return render(request, "billing/contacts.html",
                  {"overview": overview, "page": overview.owned})


@login_required
def contact_change_new(request, pk):
    """The administrator contact asks to move roles. The answer is the same whether or
    not the NIC handle typed exists."""
    service = get_object_or_404(Service.objects.select_related(
        "admin_contact", "tech_contact", "billing_contact"), pk=pk, admin_contact=request.user)
    form = ContactChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_services.contact_change_request(
                service=service, requester=request.user, roles=form.cleaned_data["roles"],
                target_nic_handle=form.cleaned_data["nic_handle"], request=request)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Your request is recorded. Each account concerned "
                                        "receives an email with a link to accept or refuse "
                                        "it; nothing changes until both accept."))
            return redirect("contacts:contacts")
    return render(request, "billing/contact_change_new.html", {"service": service, "form": form})


def _answer(request, change, decision, token=None):
    answer = (contact_services.contact_change_accept if decision == "accept"
              else contact_services.contact_change_refuse)
    try:
        change = answer(change=change, user=request.user, token=token, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if change.state == ContactChangeRequest.State.DONE:
            messages.success(request, _("Both accounts accepted: the contacts have changed."))
        elif decision == "accept" and change.is_pending:
            messages.success(request, _("You accepted. The change is made once the other "
                                        "account accepts too."))
        elif decision == "accept":
            messages.warning(request, _("The request is closed: %(reason)s.")
                             % {"reason": change.get_reason_display()})
        else:
            messages.success(request, _("You refused the request; nothing changes."))
    return redirect("contacts:contacts")


@login_required
@require_POST
def contact_change_answer(request, pk, decision):
    return _answer(request, _change_for_party(request, pk), decision)


@login_required
def contact_change_answer_link(request, token):
    """The link from the email, once logged in: only the account it was sent to, only
    until it is used, the request closes or a resend replaces it."""
    found = contact_services.contact_change_from_token(token=token, user=request.user)
    if found is None:
        return render(request, "billing/contact_change_link_invalid.html", status=404)
    change, party = found
    form = ContactAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _answer(request, change, form.cleaned_data["decision"], token=token)
    return render(request, "billing/contact_change_answer.html",
                  {"change": change, "party": party, "form": form})


@login_required
@require_POST
def contact_change_cancel(request, pk):
    change = _change_for_requester(request, pk)
    try:
        contact_services.contact_change_cancel(change=change, user=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The request is cancelled."))
    return redirect("contacts:contacts")


@login_required
@require_POST
def contact_change_resend(request, pk):
    change = _change_for_requester(request, pk)
    try:
        contact_services.contact_change_resend(change=change, user=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("New links are on their way; the previous ones no longer "
                                    "work."))
    return redirect("contacts:contacts")
