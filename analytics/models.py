from django.conf import settings
from django.db import models
from django.db.models import Q


class AnalyticsEvent(models.Model):
    """An append-only record of something a person or the system did."""

    name = models.CharField(max_length=64, help_text="Dotted, e.g. ticket.replied.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="analytics_events",
    )
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("view_reports", "Can view analytics reports")]
        indexes = [
            models.Index(fields=["name", "created_at"], name="event_name_created"),
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.created_at:%Y-%m-%d %H:%M}"


class ConversationLog(models.Model):
    """Per-ticket summary written when a ticket is solved or closed, rewritten on reopen."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="conversation_log"
    )
    channel = models.CharField(max_length=16)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inbound_count = models.PositiveIntegerField(default=0)
    outbound_count = models.PositiveIntegerField(default=0)
    note_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["solved_at"], name="convlog_solved")]

    def __str__(self) -> str:
        return f"Log for {self.ticket_id}"


class CustomerSatisfaction(models.Model):
    """One CSAT survey per ticket; `rating` stays empty until the customer answers."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="satisfaction"
    )
    customer = models.ForeignKey(
        "tickets.Customer", on_delete=models.PROTECT, related_name="satisfaction_surveys"
    )
    token = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=16)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "customer satisfaction"
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="csat_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["answered_at"], name="csat_answered"),
            # Report metrics select surveys by when they were sent (docs/metrics.md).
            models.Index(fields=["sent_at"], name="csat_sent"),
        ]

    def __str__(self) -> str:
        return f"CSAT for {self.ticket_id}: {self.rating or '-'}"
