from django.contrib import admin, messages

from core.errors import ApplicationError
from tickets import consent
from tickets.models import (
    AgentHandoff,
    Customer,
    CustomerIdentity,
    CustomField,
    Escalation,
    InternalNote,
    SavedReply,
    Ticket,
    TicketAssignment,
    TicketMessage,
    TicketView,
)


class CustomerIdentityInline(admin.TabularInline):
    model = CustomerIdentity
    extra = 0
    readonly_fields = ("opted_out_at", "opt_out_reason", "opt_out_detail")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "shopify_customer_id", "perp_customer_id", "created_at")
    search_fields = ("name", "identities__value", "shopify_customer_id", "perp_customer_id")
    raw_id_fields = ("merged_into",)
    inlines = [CustomerIdentityInline]


class OptedOutFilter(admin.SimpleListFilter):
    title = "consent"
    parameter_name = "opted_out"

    def lookups(self, request, model_admin):
        return [("yes", "Opted out / suppressed"), ("no", "Reachable")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(opted_out_at__isnull=self.value() == "no")
        return queryset


@admin.register(CustomerIdentity)
class CustomerIdentityAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "customer", "is_primary", "opted_out_at", "opt_out_reason")
    list_filter = ("kind", OptedOutFilter, "opt_out_reason")
    search_fields = ("value", "customer__name")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    # Consent changes only through the action, so each one is recorded (analytics trail).
    readonly_fields = ("opted_out_at", "opt_out_reason", "opt_out_detail")
    actions = ["clear_opt_outs"]

    @admin.action(description="Clear the opt-out / suppression of the selected identities")
    def clear_opt_outs(self, request, queryset):
        cleared = 0
        for identity in queryset.filter(opted_out_at__isnull=False):
            try:
                consent.clear_opt_out(identity=identity, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return
            cleared += 1
        self.message_user(request, f"Cleared {cleared} opt-out(s).", level=messages.SUCCESS)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "subject",
        "status",
        "priority",
        "channel",
        "assignee",
        "team",
        "updated_at",
    )
    list_filter = ("status", "priority", "channel", "is_escalated", "team")
    search_fields = ("reference", "subject", "customer__name", "customer__identities__value")
    raw_id_fields = ("customer", "assignee", "follow_up_of", "merged_into")
    list_select_related = ("assignee", "team")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(TicketMessage)
class TicketMessageAdmin(admin.ModelAdmin):
    list_display = ("ticket", "direction", "channel", "delivery_status", "provider", "created_at")
    list_filter = ("direction", "channel", "delivery_status", "provider", "is_sandbox")
    search_fields = ("ticket__reference", "provider_message_id", "sender", "body")
    raw_id_fields = ("ticket", "author")
    list_select_related = ("ticket",)
    show_full_result_count = False


@admin.register(InternalNote)
class InternalNoteAdmin(admin.ModelAdmin):
    list_display = ("ticket", "author", "created_at")
    search_fields = ("ticket__reference", "body")
    raw_id_fields = ("ticket", "author")
    list_select_related = ("ticket", "author")


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    """Managers define ticket and customer fields here; the ticket and customer pages edit
    their values."""

    list_display = ("label", "key", "kind", "applies_to", "position", "is_active")
    list_filter = ("applies_to", "kind", "is_active")
    list_editable = ("position", "is_active")
    prepopulated_fields = {"key": ("label",)}


@admin.register(TicketAssignment)
class TicketAssignmentAdmin(admin.ModelAdmin):
    list_display = ("ticket", "from_agent", "to_agent", "to_team", "assigned_by", "created_at")
    search_fields = ("ticket__reference",)
    raw_id_fields = ("ticket", "assigned_by", "from_agent", "to_agent")
    list_select_related = ("ticket", "from_agent", "to_agent", "to_team", "assigned_by")


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ("ticket", "escalated_by", "to_user", "to_team", "new_priority", "created_at")
    search_fields = ("ticket__reference", "reason")
    raw_id_fields = ("ticket", "escalated_by", "to_user")
    list_select_related = ("ticket", "escalated_by", "to_user", "to_team")


@admin.register(AgentHandoff)
class AgentHandoffAdmin(admin.ModelAdmin):
    list_display = ("ticket", "from_agent", "to_agent", "to_team", "state", "created_at")
    list_filter = ("state",)
    search_fields = ("ticket__reference", "reason")
    raw_id_fields = ("ticket", "from_agent", "to_agent", "responded_by")
    list_select_related = ("ticket", "from_agent", "to_agent", "to_team")


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "created_by", "updated_at")
    search_fields = ("title", "body")
    raw_id_fields = ("created_by",)
    list_select_related = ("created_by",)


@admin.register(TicketView)
class TicketViewAdmin(admin.ModelAdmin):
    list_display = ("ticket", "user", "last_viewed_at")
    raw_id_fields = ("ticket", "user")
    list_select_related = ("ticket", "user")
