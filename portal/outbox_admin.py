"""The outbox in Django admin (notifications.models.OutboundEmail), registered from the
portal layer: the outbox imports no app, while its resend action decides who may resend
(staff accounts are for superusers) and writes the customer's security log."""

from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.template.defaultfilters import truncatechars
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from accounts.models import SecurityEvent
from accounts.security import security_log
from notifications.models import OutboundEmail
from notifications.rendering import email_show
from notifications.services import ResendRefused, email_resend
from notifications.views import email_html_frame
from portal.admin import PortalModelAdmin


class OutboundEmailAdmin(PortalModelAdmin):
    """The outbox: status, attempts and the last error; the body as the customer got it;
    a resend action. Rows are never edited by hand, and looking at one writes nothing:
    a row queued in bulk that no worker has rendered yet is rendered in memory."""

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

    def get_object(self, request, object_id, from_field=None):
        email = super().get_object(request, object_id, from_field)
        return None if email is None else email_show(email)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_outboundemail")

    @admin.display(description=gettext_lazy("last error"))
    def error_summary(self, obj):
        return truncatechars(obj.last_error, 80)

    @admin.display(description=gettext_lazy("text body"))
    def rendered_text(self, obj):
        return format_html('<pre class="outbox-text-body">{}</pre>', obj.shown_text)

    @admin.display(description=gettext_lazy("HTML body"))
    def rendered_html(self, obj):
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
        if not email.body_html:
            raise Http404
        return HttpResponse(email.shown_html)

    @admin.action(description=gettext_lazy("Resend the selected emails"),
                  permissions=["resend"])
    def resend(self, request, queryset):
        count, refused = 0, []
        for email in queryset.select_related("user"):
            try:
                resend_as_staff(email, request=request)
            except ResendRefused as refusal:
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


def resend_as_staff(email, *, request):
    """An agent sends an email again: only a superuser acts on a staff account's email;
    the resend and the line in the customer's security log, with the agent's name, are
    written together."""
    agent = request.user
    if email.user is not None and not email.user.may_be_managed_by(agent):
        raise ResendRefused(_("Only a superuser may act on a staff account."))
    with transaction.atomic():
        row = email_resend(email=email)
        if email.user is not None:
            security_log(user=email.user, action=SecurityEvent.Action.STAFF_ACTION,
                         request=request, actor=agent, what="email_resent",
                         email=email.pk, kind=email.kind)
    return row


admin.site.register(OutboundEmail, OutboundEmailAdmin)
