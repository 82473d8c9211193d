from django.contrib import admin
from django.template.defaultfilters import truncatechars
from django.utils.translation import gettext_lazy as _

from notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "to_address", "user", "status", "attempts",
                    "sent_at", "error_summary")
    list_filter = ("status", "kind")
    search_fields = ("to_address", "user__nic_handle", "subject")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in OutboundEmail._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last error"))
    def error_summary(self, obj):
        return truncatechars(obj.last_error, 80)
