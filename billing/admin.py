from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import DecisionAdminMixin
from billing.models import (
    ContactChangeRequest,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Product,
    Service,
)
from billing.services.contacts import contact_change_staff_abort
from billing.services.invoices import invoice_mark_paid
from billing.services.service_edits import service_staff_edit
from portal.admin import PortalModelAdmin


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


@admin.register(Invoice)
class InvoiceAdmin(PortalModelAdmin):
    """Invoices are issued by the order and renewal workflows and never edited: every
    field is read-only here. Staff record a payment with the "mark paid" action."""

    list_display = ("number", "customer_nic_handle", "customer_name", "kind", "issued_at",
                    "total", "paid_at")
    list_filter = ("kind", ("paid_at", admin.EmptyFieldListFilter), "year")
    search_fields = ("number", "customer__nic_handle", "customer__email", "customer_name")
    list_select_related = ("customer",)
    date_hierarchy = "issued_at"
    ordering = ("-issued_at", "-pk")
    inlines = [InvoiceLineInline]
    actions = ["mark_paid"]
    fieldsets = (
        (None, {"fields": ("number", "kind", "status", "customer", "order", "issued_at",
                           "due_at", "pdf")}),
        (_("Customer"), {"fields": ("customer_nic_handle", "customer_name",
                                    "customer_organisation", "customer_address",
                                    "customer_vat_number")}),
        (_("Seller"), {"fields": ("seller_name", "seller_address", "seller_vat_number")}),
        (_("Amounts"), {"fields": ("subtotal", "tax_total", "total", "currency")}),
        (_("Payment"), {"fields": ("paid_at", "paid_by", "first_reminder_at",
                                   "second_reminder_at", "suspended_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list (and its action) needs the permission; one invoice's page is view-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark paid (delivers the services)"), permissions=["change"])
    def mark_paid(self, request, queryset):
        paid = 0
        for invoice in queryset.filter(status=Invoice.Status.ISSUED, paid_at__isnull=True):
            if invoice_mark_paid(invoice=invoice, staff_user=request.user):
                self.log_change(request, invoice, [{"changed": {"fields": ["paid_at"]}}])
                paid += 1
        self.message_user(request, ngettext("%(count)d invoice marked paid.",
                                            "%(count)d invoices marked paid.", paid)
                          % {"count": paid}, messages.SUCCESS)
