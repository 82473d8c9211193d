from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.template.defaultfilters import truncatechars
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import services
from notifications.models import OutboundEmail
from notifications.views import email_html_frame
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

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_urls(self):
        return [path("<path:object_id>/html/", self.admin_site.admin_view(self.html_view),
                     name="notifications_outboundemail_html"), *super().get_urls()]

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
        return format_html('<pre class="outbox-text-body">{}</pre>', obj.shown_text)

    @admin.display(description=_("HTML body"))
    def rendered_html(self, obj):
        services.email_render_stored(obj)
        if not obj.body_html:
            return "—"
        # Shown in a sandboxed frame, from a URL of its own (html_view): nothing in the
        # email can run in the admin, and the admin's policy does not strip its styles.
        return format_html('<iframe class="outbox-html-body" sandbox="" src="{}" title="{}">'
                           '</iframe>', reverse("admin:notifications_outboundemail_html",
                                                args=[obj.pk]), _("HTML body"))

    @email_html_frame
    def html_view(self, request, object_id):
        email = self.get_object(request, object_id)
        if email is None or not self.has_view_permission(request, email):
            raise Http404
        services.email_render_stored(email)
        if not email.body_html:
            raise Http404
        return HttpResponse(email.shown_html)

    @admin.action(description=_("Resend the selected emails"), permissions=["resend"])
    def resend(self, request, queryset):
        count, refused = 0, []
        for email in queryset.select_related("user"):
            try:
                services.email_resend(email=email, staff_user=request.user, request=request)
            except services.ResendRefused as refusal:
                refused.append(_("%(kind)s to %(who)s: %(reason)s") % {
                    "kind": email.kind, "reason": refusal,
                    "who": email.user.nic_handle if email.user else email.to_address})
            else:
                count += 1
        if count:
            self.message_user(request, ngettext("%(count)d email queued again.",
                                                "%(count)d emails queued again.", count)
                              % {"count": count})
        for refusal in refused:
            self.message_user(request, _("Not sent again: %(refusal)s") % {"refusal": refusal},
                              messages.ERROR)
