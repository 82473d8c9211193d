from django.contrib import admin, messages
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import services
from notifications.models import OutboundEmail
from portal.admin import PortalModelAdmin


@admin.register(OutboundEmail)
class OutboundEmailAdmin(PortalModelAdmin):
    """The outbox: status, attempts and the last error; the body as the customer got it;
    a resend action. Rows are never edited by hand."""

    list_display = ("created_at", "kind", "to_address", "user", "status", "attempts",
                    "sent_at", "error_summary")
    list_filter = ("status", "kind")
    search_fields = ("to_address", "user__nic_handle", "subject")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend"]
    fields = ("user", "kind", "to_address", "language", "subject", "status", "attempts",
              "last_error", "created_at", "next_attempt_at", "claimed_at", "sent_at",
              "rendered_text", "rendered_html")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_outboundemail")

    @admin.display(description=_("last error"))
    def error_summary(self, obj):
        return truncatechars(obj.last_error, 80)

    @admin.display(description=_("text body"))
    def rendered_text(self, obj):
        services.email_render_stored(obj)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.body_text)

    @admin.display(description=_("HTML body"))
    def rendered_html(self, obj):
        services.email_render_stored(obj)
        if not obj.body_html:
            return "—"
        # Shown in a sandboxed frame: nothing in the email can run in the admin.
        return format_html('<iframe sandbox="" srcdoc="{}" style="width:100%;height:480px;'
                           'border:1px solid #ccc"></iframe>', obj.body_html)

    @admin.action(description=_("Resend the selected emails"), permissions=["resend"])
    def resend(self, request, queryset):
        count, refused = 0, []
        for email in queryset.select_related("user"):
            if email.user is not None and not email.user.may_be_managed_by(request.user):
                refused.append(email.user.nic_handle)
                continue
            services.email_resend(email=email, staff_user=request.user, request=request)
            count += 1
        if count:
            self.message_user(request, ngettext("%(count)d email queued again.",
                                                "%(count)d emails queued again.", count)
                              % {"count": count})
        if refused:
            self.message_user(request, _("Emails of %(nic_handles)s not queued again. Only a "
                                         "superuser may act on a staff account.")
                              % {"nic_handles": ", ".join(sorted(set(refused)))},
                              messages.ERROR)
