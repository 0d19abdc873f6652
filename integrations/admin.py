from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from integrations.models import ChannelConfiguration, PerpSyncLog, ShopifySyncLog, WebhookEvent
from integrations.sync import RESOURCES, test_provider_connections
from integrations.tasks import sync_provider_task


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("provider", "kind", "event_id", "is_verified", "status", "received_at")
    list_filter = ("provider", "status", "is_verified")
    search_fields = ("event_id", "kind")
    readonly_fields = ("received_at", "processed_at")
    date_hierarchy = "received_at"
    show_full_result_count = False


class SyncLogAdmin(admin.ModelAdmin):
    """Sync history with "run now" buttons and a "test connection" check for the provider."""

    provider = ""
    resources: tuple[str, ...] = RESOURCES
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
    readonly_fields = ("started_at", "finished_at")
    change_list_template = "integrations/admin/sync_log_change_list.html"
    actions = ["run_again_now"]

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "run/<str:resource>/",
                self.admin_site.admin_view(self.run_now_view),
                name=f"{name}_run",
            ),
            path(
                "test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name=f"{name}_test_connection",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "sync_resources": self.resources}
        return super().changelist_view(request, extra_context=extra_context)

    def _enqueue(self, request, resource: str) -> None:
        if resource == "products":
            # The catalog sync belongs to product knowledge; it writes the same log.
            from knowledge.tasks import sync_catalog_task

            sync_catalog_task.enqueue(triggered_by_id=request.user.pk)
        else:
            sync_provider_task.enqueue(
                provider=self.provider, resource=resource, triggered_by_id=request.user.pk
            )
        self.message_user(request, f"{self.provider} {resource} sync queued.", messages.SUCCESS)

    @admin.action(description="Run the selected syncs again now")
    def run_again_now(self, request, queryset):
        for resource in sorted(set(queryset.values_list("resource", flat=True))):
            if resource in self.resources:
                self._enqueue(request, resource)

    def run_now_view(self, request, resource: str):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        if resource not in self.resources:
            raise Http404
        self._enqueue(request, resource)
        return redirect(
            reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist")
        )

    def test_connection_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Test provider connections",
            "results": test_provider_connections(),
        }
        return TemplateResponse(request, "integrations/admin/test_connection.html", context)


class ShopifySyncLogAdmin(SyncLogAdmin):
    provider = "shopify"
    resources = (*RESOURCES, "products")
    list_display = (
        *SyncLogAdmin.list_display[:2],
        "mode",
        "progress",
        *SyncLogAdmin.list_display[2:],
    )
    readonly_fields = (*SyncLogAdmin.readonly_fields, "lease_until")

    @admin.display(description="Progress")
    def progress(self, log: ShopifySyncLog) -> str:
        percent = log.progress_percent
        return "" if percent is None else f"{log.items_seen:,}/{log.items_total:,} ({percent}%)"


class PerpSyncLogAdmin(SyncLogAdmin):
    provider = "perp"


admin.site.register(ShopifySyncLog, ShopifySyncLogAdmin)
admin.site.register(PerpSyncLog, PerpSyncLogAdmin)


@admin.register(ChannelConfiguration)
class ChannelConfigurationAdmin(admin.ModelAdmin):
    list_display = ("channel", "display_name", "is_enabled", "sender", "threading_window_hours")
    list_filter = ("is_enabled",)
