from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.events import publish_on_commit
from integrations.events import CatalogSyncRequested
from integrations.message_templates import PLACEHOLDERS
from integrations.models import (
    ChannelConfiguration,
    InboundEventNeedingAttention,
    MessageTemplate,
    PerpSyncLog,
    ShopifySyncLog,
    WebChatInbox,
    WebhookEvent,
)
from integrations.sync import RESOURCES, test_provider_connections
from integrations.tasks import sync_message_templates_task, sync_provider_task
from integrations.webchat.snippets import liquid_snippet, script_snippet
from integrations.webhooks import (
    list_webhook_events_needing_attention,
    open_raw,
    reprocess_webhook_events,
)

RAW_PREVIEW_BYTES = 20_000


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("provider", "kind", "event_id", "is_verified", "status", "received_at")
    list_filter = ("provider", "status", "is_verified")
    search_fields = ("event_id", "kind")
    readonly_fields = ("received_at", "processed_at", "raw_preview", "text_repairs")
    exclude = ("raw_body",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = ["reprocess"]

    @admin.display(description="Raw body (as received)")
    def raw_preview(self, event: WebhookEvent) -> str:
        with open_raw(event) as raw:
            head = raw.read(RAW_PREVIEW_BYTES)
            is_cut = bool(raw.read(1))
        text = head.decode("utf-8", "backslashreplace")
        return text + ("\n[...]" if is_cut else "")

    @admin.action(description="Reprocess the selected events")
    def reprocess(self, request, queryset):
        count = reprocess_webhook_events(event_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} event(s) queued for reprocessing.", messages.SUCCESS)


@admin.register(InboundEventNeedingAttention)
class InboundEventNeedingAttentionAdmin(WebhookEventAdmin):
    """Failed or stuck inbound events; permissions are those of the webhook event log."""

    list_display = ("provider", "kind", "event_id", "short_error", "attempts", "received_at")
    list_filter = ("provider", "status")

    def get_queryset(self, request):
        return list_webhook_events_needing_attention()

    @admin.display(description="Error")
    def short_error(self, event: WebhookEvent) -> str:
        return event.error if len(event.error) <= 120 else event.error[:117] + "..."

    def _has(self, request, action: str) -> bool:
        return request.user.has_perm(f"integrations.{action}_webhookevent")

    def has_view_permission(self, request, obj=None):
        return self._has(request, "view") or self._has(request, "change")

    def has_change_permission(self, request, obj=None):
        return self._has(request, "change")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
            # The catalog sync belongs to product knowledge (it subscribes); it writes this log.
            publish_on_commit(CatalogSyncRequested(triggered_by_id=request.user.pk))
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


@admin.register(WebChatInbox)
class WebChatInboxAdmin(admin.ModelAdmin):
    """Widget settings and the snippets to paste into the Shopify theme (docs/channels.md)."""

    list_display = ("shop_name", "key", "is_enabled", "updated_at")
    readonly_fields = ("snippet", "identity_snippet")
    fieldsets = (
        (None, {"fields": ("shop_name", "key", "is_enabled")}),
        ("Look", {"fields": ("colour", "greeting", "prechat_fields")}),
        ("Where and when", {"fields": ("allowed_domains", "business_hours", "time_zone")}),
        ("Install", {"fields": ("snippet", "identity_snippet", "identity_secret")}),
    )

    @admin.display(description="Snippet (theme.liquid, before </body>)")
    def snippet(self, obj: WebChatInbox) -> str:
        return format_html("<pre>{}</pre>", script_snippet(obj)) if obj.pk else "Save first."

    @admin.display(description="With identity verification (logged-in customers)")
    def identity_snippet(self, obj: WebChatInbox) -> str:
        return format_html("<pre>{}</pre>", liquid_snippet(obj)) if obj.pk else "Save first."


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Templates come from Twilio (the sync); only the placeholder mapping is edited here."""

    list_display = ("friendly_name", "language", "approval_status", "category", "is_active")
    list_filter = ("approval_status", "is_active", "language")
    search_fields = ("friendly_name", "sid", "body")
    fields = (
        "friendly_name",
        "sid",
        "language",
        "body",
        "sample_variables",
        "placeholders",
        "placeholder_help",
        "approval_status",
        "category",
        "rejection_reason",
        "is_active",
        "synced_at",
    )
    readonly_fields = tuple(f for f in fields if f != "placeholders")
    change_list_template = "integrations/admin/message_template_change_list.html"

    @admin.display(description="Placeholders you can map")
    def placeholder_help(self, template: MessageTemplate) -> str:
        return "; ".join(f"{key}: {label}" for key, (label, _) in PLACEHOLDERS.items())

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "sync/",
                self.admin_site.admin_view(self.sync_view),
                name=f"{opts.app_label}_{opts.model_name}_sync",
            ),
            *super().get_urls(),
        ]

    def sync_view(self, request):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        sync_message_templates_task.enqueue()
        self.message_user(request, "Template sync queued.", messages.SUCCESS)
        return redirect(reverse("admin:integrations_messagetemplate_changelist"))
