from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.forms import ReasonForm
from accounts.models import RecoveryRequest, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("nic_handle", "email", "first_name", "last_name", "organisation",
                    "country", "email_confirmed_at", "is_active", "date_joined")
    list_filter = ("is_active", "is_staff", "legal_form", "language", "country")
    search_fields = ("nic_handle", "email", "spare_email", "first_name", "last_name",
                     "phone", "organisation")
    ordering = ("-date_joined",)
    readonly_fields = ("nic_handle", "date_joined", "last_login", "email_confirmed_at")
    fieldsets = (
        (None, {"fields": ("nic_handle", "email", "spare_email", "email_confirmed_at")}),
        (_("Identity"), {"fields": ("first_name", "last_name", "legal_form", "organisation")}),
        (_("Address"), {"fields": ("address", "city", "zip", "country", "phone")}),
        (_("Preferences"), {"fields": ("language", "login_notifications")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                  "user_permissions", "last_login", "date_joined")}),
    )
    filter_horizontal = ("groups", "user_permissions")

    def has_add_permission(self, request):
        # Customers sign up themselves; staff accounts come from createsuperuser.
        return False


@admin.register(RecoveryRequest)
class RecoveryRequestAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "old_email", "new_email", "state", "decided_by")
    list_filter = ("state",)
    search_fields = ("user__nic_handle", "old_email", "new_email")
    list_select_related = ("user", "decided_by")
    readonly_fields = ("user", "old_email", "new_email", "message", "state", "ip_address",
                       "created_at", "decided_at", "decided_by", "reason")
    change_form_template = "admin/accounts/recoveryrequest/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/decide/<str:decision>/", self.admin_site.admin_view(self.decide_view),
                 name="accounts_recoveryrequest_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk, decision):
        """Approve or refuse, with a reason the customer will read."""
        recovery = get_object_or_404(RecoveryRequest.objects.select_related("user"), pk=pk)
        if decision not in ("approve", "refuse") or not self.has_change_permission(request, recovery):
            raise PermissionDenied
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            action = (services.recovery_request_approve if decision == "approve"
                      else services.recovery_request_refuse)
            try:
                action(recovery=recovery, staff_user=request.user,
                       reason=form.cleaned_data["reason"], request=request)
            except services.EmailChangeError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _("Request approved: the customer has been emailed.")
                                  if decision == "approve" else
                                  _("Request refused: the customer has been emailed."))
            return redirect("admin:accounts_recoveryrequest_change", recovery.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "original": recovery, "form": form, "decision": decision,
                   "title": _("Approve the request") if decision == "approve"
                   else _("Refuse the request")}
        return render(request, "admin/accounts/recoveryrequest/decide.html", context)
