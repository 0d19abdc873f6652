"""Admin: rules (validated JSON with the format shown), SLA policies, calendars, webhooks, logs."""

from django.contrib import admin

from automation.forms import RuleForm, WebhookEndpointForm
from automation.models import (
    BusinessCalendar,
    Holiday,
    Rule,
    RuleRun,
    SlaPolicy,
    TicketSla,
    WebhookDelivery,
    WebhookEndpoint,
    WorkingHours,
)
from automation.webhooks import retry_deliveries


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ["name", "event", "position", "stop_processing", "is_active", "updated_at"]
    list_filter = ["event", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name", "description"]
    ordering = ["event", "position", "pk"]


@admin.register(RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rule_name", "ticket", "event", "depth", "error"]
    list_filter = ["event"]
    search_fields = ["rule_name", "ticket__reference"]
    list_select_related = ["ticket"]
    readonly_fields = [f.name for f in RuleRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "is_default"]
    inlines = [WorkingHoursInline, HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "channel",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "calendar",
        "is_active",
    ]
    list_filter = ["priority", "channel", "is_active"]


@admin.register(TicketSla)
class TicketSlaAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "policy",
        "first_response_due_at",
        "next_response_due_at",
        "resolution_due_at",
        "perp_order_number",
        "promised_ship_at",
    ]
    list_select_related = ["ticket", "policy"]
    search_fields = ["ticket__reference", "perp_order_number"]
    readonly_fields = [f.name for f in TicketSla._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "is_active", "failure_count", "last_success_at", "disabled_at"]
    list_filter = ["is_active"]
    readonly_fields = ["failure_count", "disabled_at", "last_success_at", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "endpoint",
        "event",
        "state",
        "attempts",
        "response_status",
        "delivered_at",
    ]
    list_filter = ["state", "event", "endpoint"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry"]

    @admin.action(description="Send the selected failed deliveries again")
    def retry(self, request, queryset):
        count = retry_deliveries(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries queued again.")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
