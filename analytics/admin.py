from django.contrib import admin

from analytics.models import AnalyticsEvent, ConversationLog, CustomerSatisfaction


@admin.register(AnalyticsEvent)
class AnalyticsEventAdmin(admin.ModelAdmin):
    list_display = ("name", "actor", "ticket", "subject_type", "subject_id", "created_at")
    list_filter = ("name",)
    search_fields = ("name", "subject_id", "ticket__reference")
    raw_id_fields = ("actor", "ticket")
    list_select_related = ("actor", "ticket")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ConversationLog)
class ConversationLogAdmin(admin.ModelAdmin):
    list_display = (
        "ticket",
        "channel",
        "assignee",
        "first_response_seconds",
        "resolution_seconds",
        "reopen_count",
        "solved_at",
    )
    list_filter = ("channel",)
    search_fields = ("ticket__reference",)
    raw_id_fields = ("ticket", "assignee")
    list_select_related = ("ticket", "assignee")


@admin.register(CustomerSatisfaction)
class CustomerSatisfactionAdmin(admin.ModelAdmin):
    list_display = ("ticket", "customer", "channel", "rating", "sent_at", "answered_at")
    list_filter = ("rating", "channel")
    search_fields = ("ticket__reference", "comment")
    raw_id_fields = ("ticket", "customer")
    list_select_related = ("ticket", "customer")
    exclude = ("token",)
