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


# Daily rollups (docs/metrics.md, "Rollups") ----------------------------------------------------


class DailyRollup(models.Model):
    """The report's counts for one local day (TIME_ZONE) and one (channel, team, assignee).

    Each count sits on the day its metric uses: tickets created and first responses on the
    creation day, solves and reopens on the solve day, surveys on the day they were sent, SLA
    deadlines on the day they fall. Rebuilt a whole day at a time by `analytics.rollups`.
    Team and assignee are plain ids, not foreign keys: deleting a user or a team must not write
    here, and the reports only group by them.
    """

    day = models.DateField()
    channel = models.CharField(max_length=16)
    team_id = models.PositiveIntegerField(null=True, blank=True)
    assignee_id = models.PositiveIntegerField(null=True, blank=True)
    tickets_created = models.PositiveIntegerField(default=0)
    first_responses = models.PositiveIntegerField(default=0)
    tickets_solved = models.PositiveIntegerField(default=0)
    tickets_reopened = models.PositiveIntegerField(default=0)
    surveys_sent = models.PositiveIntegerField(default=0)
    surveys_answered = models.PositiveIntegerField(default=0)
    rating_1 = models.PositiveIntegerField(default=0)
    rating_2 = models.PositiveIntegerField(default=0)
    rating_3 = models.PositiveIntegerField(default=0)
    rating_4 = models.PositiveIntegerField(default=0)
    rating_5 = models.PositiveIntegerField(default=0)
    sla_due = models.PositiveIntegerField(default=0)
    sla_breached = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "channel"], name="rollup_day_channel")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} team={self.team_id} agent={self.assignee_id}"


class RollupMetric(models.TextChoices):
    FIRST_RESPONSE = "frt", "First response (calendar)"
    FIRST_RESPONSE_BUSINESS = "frt_business", "First response (business hours)"
    RESOLUTION = "resolution", "Resolution"
    INBOUND_HOUR = "inbound_hour", "Customer messages by local hour"


class RollupBucket(models.Model):
    """A histogram cell of one day and (channel, team, assignee): how many values of `metric`
    fell in `bucket` (`analytics.histograms` for durations; the local hour 0-23 for
    `inbound_hour`). Sparse: empty cells are not stored. Only first response keeps the
    assignee (the agents table shows its median); other metrics store assignee NULL."""

    day = models.DateField()
    channel = models.CharField(max_length=16)
    team_id = models.PositiveIntegerField(null=True, blank=True)
    assignee_id = models.PositiveIntegerField(null=True, blank=True)
    metric = models.CharField(max_length=16, choices=RollupMetric.choices)
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["metric", "day"], name="rollup_bucket_metric_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}[{self.bucket}] = {self.count}"


class RollupDay(models.Model):
    """A day whose rollup rows were computed, and when. Its row is also the lock that keeps two
    workers from rebuilding the same day at once (SELECT ... FOR UPDATE)."""

    day = models.DateField(primary_key=True)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} at {self.computed_at:%Y-%m-%d %H:%M}"


class RollupDirt(models.Model):
    """A ticket (or a day) whose rollup days must be recomputed: written by the subscribers in
    the changing transaction, consumed by the `refresh_analytics_rollups` task."""

    ticket_id = models.PositiveIntegerField(null=True, blank=True)
    day = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"dirty ticket={self.ticket_id} day={self.day}"


class RollupCoverage(models.Model):
    """One row: rollups are complete from `covered_from` on (set by a rebuild through today);
    reports starting earlier, or before any rebuild, are computed live."""

    covered_from = models.DateField()
    rebuilt_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"rollups from {self.covered_from}"


class BacklogCount(models.Model):
    """Unresolved tickets now, per (channel, team, status): the backlog tile without counting
    the tickets table on every report. Recounted whole by the rollup refresh (analytics.rollups)."""

    channel = models.CharField(max_length=16)
    team_id = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16)
    count = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.status} {self.channel} team={self.team_id}: {self.count}"
