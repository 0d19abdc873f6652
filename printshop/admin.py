from django.contrib import admin

from printshop.models import Proof, TicketOrder


@admin.register(TicketOrder)
class TicketOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "source", "ticket", "linked_by", "created_at"]
    list_filter = ["source"]
    search_fields = ["number", "ticket__reference"]
    raw_id_fields = ["ticket", "linked_by"]


@admin.register(Proof)
class ProofAdmin(admin.ModelAdmin):
    """Read-mostly: proofs change through the ticket page and the customer's decision."""

    list_display = [
        "ticket",
        "line_key",
        "version",
        "decision",
        "is_superseded",
        "sent_at",
        "expires_at",
        "perp_status",
    ]
    list_filter = ["decision", "perp_status", "source", "is_superseded"]
    search_fields = ["ticket__reference", "order_number", "perp_artwork_id", "file_name"]
    raw_id_fields = ["ticket", "created_by", "sent_message"]
    readonly_fields = [
        "token",
        "line_key",
        "version",
        "file",
        "content_type",
        "file_size",
        "preflight",
        "sent_at",
        "superseded_at",
        "decision",
        "decided_at",
        "decided_ip",
        "decision_comment",
        "perp_attempts",
        "perp_error",
        "perp_synced_at",
    ]
