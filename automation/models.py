"""Rules, SLA policies, the business calendar, per-ticket SLA state and outbound webhooks.

docs/automation.md describes the rule format and how SLA deadlines are computed.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tickets.models import ChannelKind, TicketPriority


class RuleEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", "Ticket created"
    MESSAGE_RECEIVED = "message.received", "Customer message received"
    TICKET_UPDATED = "ticket.updated", "Ticket updated"
    SLA_WARNING = "sla.warning", "SLA about to breach"
    SLA_BREACHED = "sla.breached", "SLA breached"


class Rule(models.Model):
    """When EVENT happens and every condition holds, perform the actions in order.

    `conditions` and `actions` are JSON lists validated by `automation.rules` (the admin form
    shows the format); rules run by `position`, and `stop_processing` ends the run after a match.
    """

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    event = models.CharField(max_length=32, choices=RuleEvent.choices)
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule fires, later rules for the event are skipped."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "position", "pk"]
        indexes = [models.Index(fields=["event", "is_active", "position"], name="rule_event")]
        permissions = [
            (
                "manage_automation",
                "Can manage rules, SLA policies, calendars and webhooks on the staff pages",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from automation.rules import validate_actions, validate_conditions

        errors = {}
        for field, validate in (("conditions", validate_conditions), ("actions", validate_actions)):
            try:
                validate(getattr(self, field))
            except ValidationError as exc:
                errors[field] = exc.messages
        if errors:
            raise ValidationError(errors)


class RuleRun(models.Model):
    """A rule that fired on a ticket: shown on the ticket timeline and in admin."""

    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="runs")
    rule_name = models.CharField(max_length=120)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="rule_runs")
    event = models.CharField(max_length=32)
    depth = models.PositiveSmallIntegerField(default=0)
    performed = models.JSONField(default=list, help_text="One line per action performed.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="rulerun_ticket")]

    def __str__(self) -> str:
        return f"{self.rule_name} on {self.ticket_id}"


# SLA -------------------------------------------------------------------------------------------


class BusinessCalendar(models.Model):
    """Working hours per weekday plus holidays, in one time zone."""

    name = models.CharField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from zoneinfo import available_timezones

        if self.timezone not in available_timezones():
            raise ValidationError({"timezone": "Unknown time zone."})


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="hours_end_after",
                violation_error_message="The end of working hours must be after the start.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """Targets in business minutes for tickets of one priority (and optionally one channel).

    A channel-specific policy wins over the channel-less one for the same priority.
    """

    name = models.CharField(max_length=120)
    priority = models.CharField(max_length=16, choices=TicketPriority.choices)
    channel = models.CharField(
        max_length=16, choices=ChannelKind.choices, blank=True, help_text="Empty: every channel."
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    first_response_minutes = models.PositiveIntegerField(help_text="Business minutes.")
    next_response_minutes = models.PositiveIntegerField(help_text="Business minutes.")
    resolution_minutes = models.PositiveIntegerField(help_text="Business minutes.")
    warn_before_minutes = models.PositiveIntegerField(
        default=30, help_text="Warn this many (wall-clock) minutes before a deadline."
    )
    ship_date_margin_minutes = models.PositiveIntegerField(
        default=240,
        help_text="A ticket about a PERP order is due this long before its promised ship date.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "channel"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["priority", "channel"], name="sla_unique_target")
        ]

    def __str__(self) -> str:
        return self.name


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class TicketSla(models.Model):
    """Deadlines and warned/breached marks for one ticket, kept by `automation.sla`."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_warned_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    perp_order_id = models.CharField(max_length=64, blank=True)
    perp_order_number = models.CharField(max_length=32, blank=True)
    promised_ship_at = models.DateTimeField(null=True, blank=True)
    production_risk_at = models.DateTimeField(
        null=True, blank=True, help_text="When production was found unable to make the ship date."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ticket SLA"
        indexes = [
            models.Index(fields=["first_response_due_at"], name="sla_first_due"),
            models.Index(fields=["next_response_due_at"], name="sla_next_due"),
            models.Index(fields=["resolution_due_at"], name="sla_resolution_due"),
        ]

    def __str__(self) -> str:
        return f"SLA of {self.ticket_id}"


# Outbound webhooks ------------------------------------------------------------------------------


class WebhookEventType(models.TextChoices):
    TICKET_CREATED = "ticket.created", "Ticket created"
    TICKET_UPDATED = "ticket.updated", "Ticket updated"
    MESSAGE_CREATED = "message.created", "Message created"
    CSAT_RECEIVED = "csat.received", "CSAT received"


class WebhookEndpoint(models.Model):
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event names this endpoint receives.")
    secret = models.CharField(
        max_length=128, help_text="HMAC-SHA256 key; the receiver verifies signatures with it."
    )
    is_active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(
        default=0, help_text="Failed deliveries in a row (all attempts used)."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = [e for e in self.events or [] if e not in WebhookEventType.values]
        if not isinstance(self.events, list) or not self.events or unknown:
            raise ValidationError(
                {"events": f"A non-empty list of: {', '.join(WebhookEventType.values)}."}
            )


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32)
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"
