from django.contrib import admin

from privacy.models import PrivacyRequest


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are made from the customer page or by Shopify."""

    list_display = ("pk", "kind", "source", "status", "customer", "created_at", "completed_at")
    list_filter = ("kind", "source", "status")
    readonly_fields = [f.name for f in PrivacyRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
