from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import DecisionAdminMixin
from billing.forms import CreditNoteForm, StatementUploadForm
from billing.models import (
    BankStatement,
    ContactChangeRequest,
    CreditMovement,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Payment,
    Product,
    Service,
    StatementEntry,
)
from billing.services.contacts import contact_change_staff_abort
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_mark_paid
from billing.services.reconciliation import statement_import
from billing.services.service_edits import service_staff_edit
from portal.admin import PortalModelAdmin
from portal.errors import DomainError


@admin.register(Product)
class ProductAdmin(PortalModelAdmin):
    list_display = ("name", "name_es", "name_fr", "code", "kind", "price_monthly", "price_yearly",
                    "tax_rate", "is_active", "position")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "name_es", "name_fr", "code")
    list_editable = ("is_active", "position")


@admin.register(Service)
class ServiceAdmin(PortalModelAdmin):
    list_display = ("name", "customer", "product", "period", "status", "expires_at", "auto_renew")
    list_filter = ("status", "auto_renew", "product")
    search_fields = ("name", "customer__nic_handle", "customer__email")
    list_select_related = ("customer", "product")
    # Contacts move only by a contact change both accounts accept.
    readonly_fields = ("customer", "product", "created_at", "delivered_at", "renewal_attempts",
                       "renewal_retry_at", "admin_contact", "tech_contact", "billing_contact")
    date_hierarchy = "expires_at"

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        """Services are never added here, so this is a staff edit: it goes to the
        customer's security log and the customer is told."""
        service_staff_edit(service=obj, staff_user=request.user, fields=form.changed_data,
                           request=request)


@admin.register(ContactChangeRequest)
class ContactChangeRequestAdmin(DecisionAdminMixin, PortalModelAdmin):
    """Contact changes, read only; staff may abort a pending one (logged for every account
    concerned, each told). Never the link hashes."""

    list_display = ("created_at", "service", "requester", "holder", "target_nic_handle",
                    "target", "state", "expires_at")
    list_filter = ("state",)
    search_fields = ("service__name", "requester__nic_handle", "holder__nic_handle",
                     "target__nic_handle", "target_nic_handle")
    list_select_related = ("service", "requester", "holder", "target")
    fields = ("service", "requester", "holder", "target_nic_handle", "target", "move_admin",
              "move_tech", "move_billing", "state", "reason", "created_at", "expires_at",
              "holder_accepted_at", "target_accepted_at", "links_sent", "closed_at",
              "closed_by")
    readonly_fields = fields
    change_form_template = "admin/decision_change_form.html"
    decisions = {
        "abort": (_("Abort the contact change"),
                  lambda obj, **kw: contact_change_staff_abort(change=obj, **kw)),
    }

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "service", "period", "unit_price", "tax_rate", "tax_reason",
                       "tax_country")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(PortalModelAdmin):
    list_display = ("__str__", "customer", "created_at")
    search_fields = ("customer__nic_handle", "customer__email")
    list_select_related = ("customer",)
    readonly_fields = ("customer", "created_at")
    inlines = [OrderLineInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("description", "period_start", "period_end", "quantity", "unit_price", "tax_rate",
              "tax_reason", "tax_country", "net_amount", "tax_amount", "total_amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("received_on", "amount", "method", "bank_reference", "statement_entry",
              "recorded_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class CreditNoteInline(admin.TabularInline):
    model = CreditNote
    extra = 0
    can_delete = False
    fields = ("number", "issued_at", "reason", "total", "issued_by")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(PortalModelAdmin):
    """Invoices are issued by the order and renewal workflows and never edited: every
    field is read-only here. Staff record a payment of the full amount due with the
    "mark paid" action (the same service a bank statement's transfer goes through) and
    issue credit notes from an invoice's page."""

    list_display = ("number", "customer_nic_handle", "customer_name", "kind", "issued_at",
                    "total", "paid_at")
    list_filter = ("kind", ("paid_at", admin.EmptyFieldListFilter), "year")
    search_fields = ("number", "customer__nic_handle", "customer__email", "customer_name")
    list_select_related = ("customer",)
    date_hierarchy = "issued_at"
    ordering = ("-issued_at", "-pk")
    inlines = [InvoiceLineInline, PaymentInline, CreditNoteInline]
    actions = ["mark_paid"]
    change_form_template = "admin/billing/invoice/change_form.html"
    fieldsets = (
        (None, {"fields": ("number", "kind", "status", "customer", "order", "issued_at",
                           "due_at", "pdf")}),
        (_("Customer"), {"fields": ("customer_nic_handle", "customer_name",
                                    "customer_organisation", "customer_address",
                                    "customer_vat_number")}),
        (_("Seller"), {"fields": ("seller_name", "seller_address", "seller_vat_number")}),
        (_("Amounts"), {"fields": ("subtotal", "tax_total", "total", "currency")}),
        (_("Payment"), {"fields": ("paid_at", "paid_by", "amount_due", "first_reminder_at",
                                   "second_reminder_at", "suspended_at")}),
    )

    @admin.display(description=_("amount due"))
    def amount_due(self, obj):
        return obj.amount_due

    def get_urls(self):
        return [
            path("<int:pk>/credit-note/", self.admin_site.admin_view(self.credit_note_view),
                 name="billing_invoice_credit_note"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_credit": request.user.has_perm(
            "billing.add_creditnote")}
        return super().change_view(request, object_id, form_url, extra_context)

    def credit_note_view(self, request, pk):
        """Issue a credit note against an issued invoice: the lines to credit (all of
        them for the whole invoice) and a reason. Staff with the permission only."""
        if not request.user.has_perm("billing.add_creditnote"):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk,
                                    status=Invoice.Status.ISSUED)
        form = CreditNoteForm(request.POST or None, invoice=invoice)
        if request.method == "POST" and form.is_valid():
            try:
                note = credit_note_issue(
                    invoice=invoice, staff_user=request.user, now=timezone.now(),
                    reason=form.cleaned_data["reason"],
                    line_ids=[line.pk for line in form.cleaned_data["lines"]])
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None,
                               error.message)
            else:
                self.log_addition(request, note, [{"added": {}}])
                self.message_user(request, _("Credit note %(number)s issued; the customer "
                                             "has been emailed.") % {"number": note.number},
                                  messages.SUCCESS)
                return redirect("admin:billing_invoice_change", invoice.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "original": invoice, "form": form,
                   "title": _("Issue a credit note against %(number)s")
                   % {"number": invoice.number}}
        return render(request, "admin/billing/invoice/credit_note.html", context)

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list (and its action) needs the permission; one invoice's page is view-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark paid: record a payment of the full amount due "
                                "(delivers the services)"), permissions=["change"])
    def mark_paid(self, request, queryset):
        paid = 0
        for invoice in queryset.filter(status=Invoice.Status.ISSUED, paid_at__isnull=True):
            if invoice_mark_paid(invoice=invoice, staff_user=request.user):
                self.log_change(request, invoice, [{"changed": {"fields": ["paid_at"]}}])
                paid += 1
        self.message_user(request, ngettext("%(count)d invoice marked paid.",
                                            "%(count)d invoices marked paid.", paid)
                          % {"count": paid}, messages.SUCCESS)


class ReadOnlyBillingAdmin(PortalModelAdmin):
    """Money records: written by services only, never edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreditNoteLineInline(admin.TabularInline):
    model = CreditNoteLine
    extra = 0
    can_delete = False
    fields = ("description", "quantity", "unit_price", "tax_rate", "net_amount", "tax_amount",
              "total_amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyBillingAdmin):
    """Credit notes are issued from an invoice's page and never change afterwards."""

    list_display = ("number", "invoice", "customer_nic_handle", "issued_at", "total",
                    "issued_by")
    search_fields = ("number", "invoice__number", "customer__nic_handle")
    list_select_related = ("invoice", "issued_by")
    date_hierarchy = "issued_at"
    inlines = [CreditNoteLineInline]
    fields = ("number", "invoice", "customer", "customer_nic_handle", "issued_at", "issued_by",
              "reason", "subtotal", "tax_total", "total", "currency", "pdf")
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyBillingAdmin):
    list_display = ("recorded_at", "invoice", "amount", "method", "received_on",
                    "bank_reference", "recorded_by")
    list_filter = ("method",)
    search_fields = ("invoice__number", "invoice__customer__nic_handle", "bank_reference")
    list_select_related = ("invoice", "recorded_by")
    date_hierarchy = "recorded_at"


@admin.register(CreditMovement)
class CreditMovementAdmin(ReadOnlyBillingAdmin):
    list_display = ("created_at", "customer", "kind", "amount", "invoice", "credit_note")
    list_filter = ("kind",)
    search_fields = ("customer__nic_handle", "invoice__number")
    list_select_related = ("customer", "invoice", "credit_note")
    date_hierarchy = "created_at"


class ImporterMayViewMixin:
    """Who may import statements may read them and their entries (what needs review)."""

    def has_view_permission(self, request, obj=None):
        return (request.user.has_perm("billing.import_bankstatement")
                or super().has_view_permission(request, obj))

    def has_module_permission(self, request):
        return (request.user.has_perm("billing.import_bankstatement")
                or super().has_module_permission(request))


class NeedsReviewFilter(admin.SimpleListFilter):
    title = _("needs review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("yes", _("Unmatched, partial or over-paid")), ("no", _("Matched"))]

    def queryset(self, request, queryset):
        matched = [StatementEntry.Outcome.MATCHED, StatementEntry.Outcome.MATCHED_BY_AMOUNT]
        if self.value() == "yes":
            return queryset.exclude(outcome__in=matched)
        if self.value() == "no":
            return queryset.filter(outcome__in=matched)
        return queryset


class StatementFilter(admin.SimpleListFilter):
    """The entries of one statement: the latest ones offered, any one reachable by its
    link in the statements' list."""

    title = _("statement")
    parameter_name = "statement"

    def lookups(self, request, model_admin):
        latest = list(BankStatement.objects.order_by("-imported_at", "-pk")[:20])
        chosen = self.value()
        if chosen and chosen.isdigit() and all(str(s.pk) != chosen for s in latest):
            latest += list(BankStatement.objects.filter(pk=int(chosen)))
        return [(str(statement.pk), str(statement)) for statement in latest]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(statement_id=int(value))
        return queryset


@admin.register(StatementEntry)
class StatementEntryAdmin(ImporterMayViewMixin, ReadOnlyBillingAdmin):
    """Credit entries of the statements imported and what reconciliation made of each:
    those that need a human (unmatched, partial, over-paid) say why."""

    list_display = ("bank_reference", "booked_on", "amount", "outcome", "reason", "invoice",
                    "customer", "debtor_name")
    list_filter = (NeedsReviewFilter, "outcome", StatementFilter)
    search_fields = ("bank_reference", "remittance", "debtor_name", "invoice__number",
                     "customer__nic_handle")
    list_select_related = ("invoice", "customer")
    fields = ("statement", "bank_reference", "booked_on", "amount", "debtor_name",
              "remittance", "outcome", "reason", "invoice", "customer")
    readonly_fields = fields


@admin.register(BankStatement)
class BankStatementAdmin(ImporterMayViewMixin, ReadOnlyBillingAdmin):
    """"Add" is the upload of a statement file: staff holding the "import bank
    statements" permission only; each import is written to the admin log."""

    list_display = ("imported_at", "file_name", "message_id", "entries_new", "entries_known",
                    "entries_skipped", "imported_by", "entries_link")
    list_select_related = ("imported_by",)
    date_hierarchy = "imported_at"
    fields = ("imported_at", "imported_by", "file_name", "message_id", "entries_new",
              "entries_known", "entries_skipped")
    readonly_fields = fields

    @admin.display(description=_("entries"))
    def entries_link(self, obj):
        url = reverse("admin:billing_statemententry_changelist")
        return format_html('<a href="{}?statement={}">{}</a>', url, obj.pk,
                           _("entries"))

    def has_add_permission(self, request):
        return request.user.has_perm("billing.import_bankstatement")

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        # Bound on any POST: one whose file part was dropped (a name such as ".") still
        # gets "This field is required." rather than the empty form again.
        posted = request.method == "POST"
        form = StatementUploadForm(request.POST if posted else None,
                                   request.FILES if posted else None)
        if posted and form.is_valid():
            upload = form.cleaned_data["statement"]
            try:
                report = statement_import(stream=upload, size=upload.size,
                                          file_name=upload.name, staff_user=request.user,
                                          now=timezone.now())
            except DomainError as error:
                form.add_error("statement", error.message)
            else:
                statement = report.statement
                self.log_addition(request, statement, [{"added": {}}])
                review = sum(count for outcome, count in report.counts.items()
                             if outcome not in (StatementEntry.Outcome.MATCHED,
                                                StatementEntry.Outcome.MATCHED_BY_AMOUNT))
                self.message_user(request, _(
                    "Statement imported: %(new)d new credit entries (%(review)d to review), "
                    "%(known)d already imported, %(skipped)d debit or pending entries "
                    "skipped.") % {"new": statement.entries_new, "review": review,
                                   "known": statement.entries_known,
                                   "skipped": statement.entries_skipped}, messages.SUCCESS)
                return redirect(reverse("admin:billing_statemententry_changelist")
                                + f"?statement={statement.pk}")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "form": form, "title": _("Import a bank statement")}
        return render(request, "admin/billing/bankstatement/upload.html", context)
