from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


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
