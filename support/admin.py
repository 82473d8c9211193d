from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.admin import PortalModelAdmin
from portal.errors import DomainError
from support import selectors, services
from support.forms import AttachmentsField
from support.models import CannedAnswer, ContactMessage, SupportRequest

REPLY, NOTE = "reply", "note"


class SupportRequestAdminForm(forms.ModelForm):
    """The request's page: assign it, answer the customer or write an internal note
    (a canned answer as a start), change its status."""

    canned_answer = forms.ModelChoiceField(
        label=_("Canned answer"), queryset=CannedAnswer.objects.all(), required=False,
        help_text=_("Put before what you write below."))
    body = forms.CharField(label=_("Message"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))
    body_kind = forms.ChoiceField(label=_("Send as"), initial=REPLY, widget=forms.RadioSelect,
                                  choices=[(REPLY, _("Reply to the customer (emailed)")),
                                           (NOTE, _("Internal note (staff only)"))])
    attachments = AttachmentsField(help_text=_("Sent with a reply; up to 3 files of 5 MB: "
                                               "PDF, PNG, JPEG or plain text."))
    new_status = forms.ChoiceField(
        label=_("Status afterwards"), required=False,
        choices=[("", _("As it follows (a reply waits for the customer)")),
                 *SupportRequest.Status.choices])

    class Meta:
        model = SupportRequest
        fields = ("assignee",)

    def clean(self):
        data = super().clean()
        if data.get("canned_answer") and not data.get("body"):
            data["body"] = data["canned_answer"].body
        elif data.get("canned_answer"):
            data["body"] = f"{data['canned_answer'].body}\n\n{data['body']}"
        if data.get("attachments") and not (data.get("body") and data.get("body_kind") == REPLY):
            self.add_error("attachments", _("Attachments go with a reply to the customer."))
        return data


@admin.register(SupportRequest)
class SupportRequestAdmin(PortalModelAdmin):
    """The queue: requests waiting for staff first, the longest waiting at the top."""

    form = SupportRequestAdminForm
    list_display = ("number", "nic_handle", "subject", "category", "status", "assignee",
                    "waiting_since")
    list_display_links = ("number", "subject")
    list_filter = ("status", "category", ("assignee", admin.RelatedOnlyFieldListFilter))
    search_fields = ("number", "nic_handle", "subject", "messages__body")
    list_select_related = ("assignee",)
    show_full_result_count = False
    readonly_fields = ("number", "customer", "nic_handle", "category", "service", "invoice",
                       "subject", "status", "created_at", "status_changed_at",
                       "last_message_at")
    fieldsets = (
        (None, {"fields": ("number", "customer", "nic_handle", "category", "service",
                           "invoice", "subject", "status", "created_at", "status_changed_at",
                           "last_message_at", "assignee")}),
        (_("Answer"), {"fields": ("canned_answer", "body_kind", "body", "attachments",
                                  "new_status")}),
    )
    change_form_template = "admin/support/supportrequest/change_form.html"

    def get_queryset(self, request):
        return selectors.staff_queue(super().get_queryset(request))

    @admin.display(description=_("waiting since"), ordering="status_changed_at")
    def waiting_since(self, obj):
        return obj.status_changed_at

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The agents (the Support group) and superusers, in a plain list: no buttons to
        add, edit or delete accounts beside it."""
        if db_field.name == "assignee":
            return db_field.formfield(queryset=selectors.support_agents(), required=False)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return False  # customers open requests

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"staff_context": selectors.request_staff_context(support_request=obj)} \
            if obj is not None else {}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}),
                                                                   **extra})

    def save_model(self, request, obj, form, change):
        """Each change goes through its service, which logs it with the agent's name."""
        data = form.cleaned_data
        try:
            if "assignee" in form.changed_data:
                services.support_request_assign(support_request=obj, staff_user=request.user,
                                                assignee=data["assignee"])
            status = data.get("new_status") or None
            if data.get("body") and data["body_kind"] == REPLY:
                services.support_request_staff_reply(
                    support_request=obj, staff_user=request.user, body=data["body"],
                    attachments=data["attachments"], **({"status": status} if status else {}))
                status = None
            elif data.get("body"):
                services.support_request_note(support_request=obj, staff_user=request.user,
                                              body=data["body"])
            if status:
                services.support_request_set_status(support_request=obj,
                                                    staff_user=request.user, status=status)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass  # no relation is edited here


@admin.register(CannedAnswer)
class CannedAnswerAdmin(PortalModelAdmin):
    list_display = ("title",)
    search_fields = ("title", "body")


class ContactMessageAdminForm(forms.ModelForm):
    answer = forms.CharField(
        label=_("Answer by email"), required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Sent to the address the visitor typed, which may not be the account's: "
                    "never give account details or links here."))

    class Meta:
        model = ContactMessage
        fields = ()


@admin.register(ContactMessage)
class ContactMessageAdmin(PortalModelAdmin):
    """Messages from the public contact form. The NIC handle is as typed: search the
    customers for it."""

    list_display = ("created_at", "nic_handle", "email", "category", "handled_at",
                    "handled_by")
    list_filter = ("category", ("handled_at", admin.EmptyFieldListFilter))
    search_fields = ("nic_handle", "email", "message")
    list_select_related = ("handled_by",)
    show_full_result_count = False
    actions = ["mark_handled"]
    form = ContactMessageAdminForm

    def get_readonly_fields(self, request, obj=None):
        return [*(field.name for field in self.model._meta.fields), "account"]

    @admin.display(description=_("account with this NIC handle"))
    def account(self, obj):
        """The account the NIC handle names (any case), if one does; looked up here, on
        the agent's page, never while the visitor waited."""
        user = selectors.contact_account(contact=obj)
        if user is None:
            return _("None")
        return format_html('<a href="{}">{} ({})</a>',
                           reverse("admin:accounts_user_change", args=[user.pk]),
                           user.nic_handle, user.get_full_name())

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("answer"):
            services.contact_message_answer(contact=obj, staff_user=request.user,
                                            body=form.cleaned_data["answer"])

    @admin.action(description=_("Mark handled"), permissions=["change"])
    def mark_handled(self, request, queryset):
        count = queryset.filter(handled_at=None).update(handled_at=timezone.now(),
                                                        handled_by=request.user)
        self.message_user(request, ngettext("%(count)d message marked handled.",
                                            "%(count)d messages marked handled.", count)
                          % {"count": count})
