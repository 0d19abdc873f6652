from django.contrib import admin

from integrations.models import ChannelConfiguration, PerpSyncLog, ShopifySyncLog, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("provider", "kind", "event_id", "is_verified", "status", "received_at")
    list_filter = ("provider", "status", "is_verified")
    search_fields = ("event_id", "kind")
    readonly_fields = ("received_at", "processed_at")
    date_hierarchy = "received_at"
    show_full_result_count = False


class SyncLogAdmin(admin.ModelAdmin):
    list_display = (
        "resource",
        "status",
        "items_seen",
        "items_created",
        "items_updated",
        "items_failed",
        "started_at",
        "finished_at",
    )
    list_filter = ("resource", "status")
    raw_id_fields = ("triggered_by",)


admin.site.register(ShopifySyncLog, SyncLogAdmin)
admin.site.register(PerpSyncLog, SyncLogAdmin)


@admin.register(ChannelConfiguration)
class ChannelConfigurationAdmin(admin.ModelAdmin):
    list_display = ("channel", "display_name", "is_enabled", "sender", "threading_window_hours")
    list_filter = ("is_enabled",)
