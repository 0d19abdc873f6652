from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.files import PREVIEWABLE_TYPES


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook Messenger"
    WEB = "web", "Web chat"


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    WHATSAPP = "whatsapp", "WhatsApp"
    INSTAGRAM = "instagram", "Instagram id"
    FACEBOOK = "facebook", "Facebook PSID"
    WEB = "web", "Web chat visitor"


class OptOutReason(models.TextChoices):
    """Why a customer may not be contacted at an identity (docs/channels.md "Consent")."""

    SMS_STOP = "sms_stop", "Texted an opt-out keyword (STOP)"
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", "Unsubscribed (SendGrid)"
    EMAIL_GROUP_UNSUBSCRIBE = "email_group_unsubscribe", "Unsubscribed from a group (SendGrid)"
    EMAIL_SPAM_REPORT = "email_spam_report", "Reported our mail as spam (SendGrid)"
    EMAIL_BOUNCE = "email_bounce", "The address bounced (SendGrid)"
    EMAIL_DROPPED = "email_dropped", "SendGrid drops mail to this address"


IDENTITY_MAX_LENGTH = 320
PROVIDER_MESSAGE_ID_MAX_LENGTH = 1024


class Customer(models.Model):
    """A customer profile; how to reach them lives in `CustomerIdentity` rows."""

    name = models.CharField(max_length=200, blank=True)
    shopify_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    perp_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    external_data = models.JSONField(
        default=dict, blank=True, help_text="Last Shopify/PERP snapshot, for display only."
    )
    external_synced_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When a privacy request erased the personal data."
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    custom_fields = models.JSONField(
        default=dict, blank=True, help_text="Values of the customer fields (CustomField) by key."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name or f"Customer #{self.pk}"


class CustomerIdentity(models.Model):
    """One way to reach a customer: a normalized email, E.164 phone or platform id."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=IdentityKind.choices)
    # Emails up to 320 (64-character local part, @, 255-character domain: RFC 3696 erratum 1690).
    value = models.CharField(max_length=IDENTITY_MAX_LENGTH)
    is_primary = models.BooleanField(default=False)
    # The platform's own profile (Messenger/Instagram), fetched once: tickets show a name, not
    # a numeric PSID.
    display_name = models.CharField(max_length=200, blank=True)
    profile_picture_url = models.URLField(max_length=2000, blank=True)
    profile_fetched_at = models.DateTimeField(null=True, blank=True)
    # Consent: set while the customer refuses messages here (SMS STOP, an email suppression);
    # every send to this address is refused before the provider is called.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opt_out_reason = models.CharField(max_length=32, choices=OptOutReason.choices, blank=True)
    opt_out_detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "customer identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_per_kind"),
        ]
        indexes = [models.Index(fields=["customer", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# The two status sets every app filters on (set after the class: in an enum's body they would
# become members). Open: someone still has to act; closed: solved or closed, i.e. done.
TicketStatus.OPEN_STATES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.PENDING,
    TicketStatus.ON_HOLD,
)
TicketStatus.CLOSED_STATES = (TicketStatus.SOLVED, TicketStatus.CLOSED)


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


def reference_for(ticket_id: int) -> str:
    """The human reference of a ticket, derived from its primary key (PD-1001, PD-1002, ...)."""
    return f"PD-{1000 + ticket_id}"


class Tag(models.Model):
    """A label on tickets (`rush`, `proof`, `reprint`): lower-case letters, digits, - and _."""

    name = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"
    DATE = "date", "Date"


class CustomFieldTarget(models.TextChoices):
    TICKET = "ticket", "Tickets"
    CUSTOMER = "customer", "Customers"


class CustomField(models.Model):
    """An admin-defined field on tickets (job type, substrate, reprint reason) or on customers
    (account type, preferred substrate); the values live in `Ticket.custom_fields` or
    `Customer.custom_fields` under `key`, as text (`tickets.field_types` checks them). Keys are
    unique across both, so a rule's `field.<key>` or `customer_field.<key>` names one field."""

    key = models.SlugField(max_length=40, unique=True, help_text="Used in filters and rules.")
    label = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=CustomFieldKind.choices)
    applies_to = models.CharField(
        max_length=8, choices=CustomFieldTarget.choices, default=CustomFieldTarget.TICKET
    )
    choices = models.JSONField(default=list, blank=True, help_text="For a choice: the options.")
    position = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        options = self.choices
        is_list = isinstance(options, list) and all(isinstance(o, str) and o for o in options)
        if self.kind == CustomFieldKind.CHOICE and not (is_list and options):
            raise ValidationError({"choices": "A choice field needs a list of options."})


class Ticket(models.Model):
    reference = models.CharField(
        max_length=20, unique=True, null=True, blank=True, help_text="PD-<number>, set on create."
    )
    subject = models.CharField(max_length=255)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW)
    priority = models.CharField(
        max_length=16, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    is_escalated = models.BooleanField(default=False)
    is_unverified_sender = models.BooleanField(
        default=False,
        help_text="Opened by an email whose DKIM and SPF both failed for its From domain.",
    )
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_tickets"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    custom_fields = models.JSONField(default=dict, blank=True)
    # Snoozed: out of the open inbox views until `snoozed_until` or, with
    # `is_snoozed_until_reply`, until the customer writes (any customer message wakes it).
    is_snoozed = models.BooleanField(default=False)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    is_snoozed_until_reply = models.BooleanField(default=False)
    woke_at = models.DateTimeField(
        null=True, blank=True, help_text="When a snooze last ended (the inbox marks it back)."
    )

    class Meta:
        permissions = [
            ("reply_ticket", "Can reply to customers"),
            ("note_ticket", "Can add internal notes"),
            ("assign_ticket", "Can assign tickets to anyone"),
            ("take_ticket", "Can assign tickets to self"),
            ("escalate_ticket", "Can escalate tickets"),
            ("handoff_ticket", "Can hand tickets off"),
            ("merge_ticket", "Can merge tickets and customers"),
            ("export_customers", "Can export customer personal data"),
        ]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="ticket_status_updated"),
            models.Index(
                fields=["assignee", "status", "-updated_at"], name="ticket_assignee_status"
            ),
            models.Index(fields=["team", "status", "-updated_at"], name="ticket_team_status"),
            models.Index(fields=["customer", "-updated_at"], name="ticket_customer"),
            models.Index(fields=["channel", "status"], name="ticket_channel_status"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated_id"),
            models.Index(fields=["due_at"], name="ticket_due"),
            # "Solved today" on the dashboard: closed tickets are most of a shop's history.
            models.Index(fields=["resolved_at"], name="ticket_resolved"),
            models.Index(
                fields=["snoozed_until"], condition=Q(is_snoozed=True), name="ticket_snoozed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or 'PD-?'} {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED


class MessageDirection(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Claimed by one worker, which is calling the provider (at most once on the wire).
    SENDING = "sending", "Sending"
    # The provider may have it (no answer after the request left) and we could not find out:
    # staff decide whether to send it again.
    UNKNOWN = "unknown", "Outcome unknown"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    # Never handed to a provider: the channel's rules did not allow it (`tickets/policy.py`).
    SKIPPED = "skipped", "Skipped"


class TicketMessage(models.Model):
    """A message to or from the customer. Internal talk is `InternalNote`."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ticket_messages",
    )
    sender = models.CharField(
        max_length=IDENTITY_MAX_LENGTH, blank=True, help_text="Address or id it came from."
    )
    recipient = models.CharField(max_length=IDENTITY_MAX_LENGTH, blank=True)
    body = models.TextField(help_text="Plain text shown in the timeline.")
    # A WhatsApp template (Twilio Content API): sent as ContentSid + ContentVariables, while
    # `body` keeps the rendered text for the timeline.
    content_sid = models.CharField(max_length=34, blank=True)
    content_variables = models.JSONField(default=dict, blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitized HTML (email only).")
    original_body = models.TextField(blank=True, help_text="Full text before quote trimming.")
    is_automated = models.BooleanField(default=False)
    is_auto_reply = models.BooleanField(
        default=False, help_text="An inbound auto-reply (out of office, bulk): never answered."
    )
    external_author = models.CharField(
        max_length=100, blank=True, help_text="Who sent it outside Printdesk (a provider's inbox)."
    )
    provider = models.CharField(max_length=20, blank=True)
    # Meta documents no maximum for message ids (Instagram's exceed 255); Twilio SIDs are 34.
    provider_message_id = models.CharField(
        max_length=PROVIDER_MESSAGE_ID_MAX_LENGTH, null=True, blank=True
    )
    # A Message-ID may fill a header line: 998 characters (RFC 5322 2.1.1).
    email_message_id = models.CharField(max_length=998, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    delivery_status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, blank=True, default=""
    )
    is_sandbox = models.BooleanField(default=False)
    error_code = models.CharField(max_length=64, blank=True)
    error_subcode = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # When delivery_status last changed (queued, claimed, released): the sweeper's clock.
    delivery_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_unique_provider_id",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            models.Index(fields=["delivery_status"], name="message_delivery_status"),
            # Customer messages of a day: the analytics heatmap and its daily rollups.
            models.Index(
                fields=["created_at"],
                condition=Q(direction="in"),
                name="message_inbound_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.channel} on {self.ticket_id}"


class InternalNote(models.Model):
    """Staff-only commentary on a ticket; never leaves the building."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="ticket_notes"
    )
    body = models.TextField()
    is_automated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="note_ticket_created")]

    def __str__(self) -> str:
        return f"Note on {self.ticket_id} by {self.author_id}"


class TicketAssignment(models.Model):
    """Assignment history: one row per change of assignee or team."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.to_agent_id or self.to_team_id}"


class Escalation(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    previous_priority = models.CharField(max_length=16, choices=TicketPriority.choices)
    new_priority = models.CharField(max_length=16, choices=TicketPriority.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Escalation of {self.ticket_id}"


class HandoffState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class AgentHandoff(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="handoffs")
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incoming_handoffs",
    )
    to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    # Addressed to no agent or team: the first agent who takes it gets the ticket (comms offers
    # it in a team channel, "I'll take it"); tickets knows nothing of where it is offered.
    is_open = models.BooleanField(default=False)
    reason = models.CharField(max_length=255)
    context_summary = models.TextField(blank=True)
    state = models.CharField(
        max_length=10, choices=HandoffState.choices, default=HandoffState.PENDING
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response_note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_agent__isnull=False) | Q(to_team__isnull=False) | Q(is_open=True),
                name="handoff_has_target",
            ),
        ]
        indexes = [models.Index(fields=["to_agent", "state"], name="handoff_to_agent_state")]

    def __str__(self) -> str:
        return f"Handoff of {self.ticket_id} ({self.state})"


class SavedReply(models.Model):
    """A canned reply (macro) with `{{placeholder}}` slots filled from the ticket on insert."""

    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text="Placeholders: {{customer_first_name}}, {{ticket_reference}}, {{order_number}}."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A macro: applied with the reply, in one step (`tickets.macros.apply_macro`).
    set_status = models.CharField(max_length=16, choices=TicketStatus.choices, blank=True)
    set_priority = models.CharField(max_length=16, choices=TicketPriority.choices, blank=True)
    add_tags = models.JSONField(default=list, blank=True)
    set_fields = models.JSONField(
        default=dict, blank=True, help_text="Ticket field values to set, by key (canonical text)."
    )
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name_plural = "saved replies"
        constraints = [models.UniqueConstraint(fields=["title"], name="saved_reply_unique_title")]

    def __str__(self) -> str:
        return self.title

    @property
    def has_actions(self) -> bool:
        return bool(
            self.set_status
            or self.set_priority
            or self.add_tags
            or self.set_fields
            or self.set_assignee_id
        )


class HistoryKind(models.TextChoices):
    STATUS = "status", "Status"
    PRIORITY = "priority", "Priority"
    ASSIGNEE = "assignee", "Assignee"
    TEAM = "team", "Team"
    ESCALATED = "escalated", "Escalated"
    TAGS = "tags", "Tags"
    FIELD = "field", "Field"
    SLA = "sla", "SLA"
    RULE = "rule", "Rule"
    MERGED = "merged", "Merged"
    SNOOZED = "snoozed", "Snoozed"
    WOKE = "woke", "Back from snooze"
    MACRO = "macro", "Macro"
    SCHEDULED_REPLY = "scheduled_reply", "Scheduled reply"


class TicketEvent(models.Model):
    """One change of a ticket, for its history: who, what, from what to what, and when.

    Written in the same transaction as the change (tickets' own subscribers of its domain events,
    and the services of tags, fields, SLA marks and rules); `GET /api/tickets/<ref>/events/`
    lists them and the timeline shows them.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=HistoryKind.choices)
    name = models.CharField(max_length=120, blank=True, help_text="A field, rule or SLA metric.")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_created")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class SavedView(models.Model):
    """A named filter combination of the inbox: personal (`owner` only) or shared with all staff.

    `filters` holds the inbox query parameters (`tickets.selectors.InboxFilters` fields).
    """

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    is_shared = models.BooleanField(default=False)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ScheduledReplyState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    # The send path refused it when its time came (a closed window, an opt-out): `message` is
    # the skipped message that says why.
    SKIPPED = "skipped", "Not sent"
    CANCELLED = "cancelled", "Cancelled"


class ScheduledReply(models.Model):
    """A staff reply to send later ("Send later"). It becomes a `TicketMessage` only when it
    goes, through `reply_to_ticket`, so messages stay in the order they reached the customer
    (docs/decisions.md, "Scheduled send")."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="scheduled_replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scheduled_replies"
    )
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    body = models.TextField()
    send_at = models.DateTimeField()
    set_status = models.CharField(
        max_length=16, choices=TicketStatus.choices, blank=True, help_text="Applied when it goes."
    )
    state = models.CharField(
        max_length=10, choices=ScheduledReplyState.choices, default=ScheduledReplyState.SCHEDULED
    )
    message = models.OneToOneField(
        TicketMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scheduled_reply",
        help_text="What it became: the sent message, or the skipped one with the reason.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Scheduled or last edited: a customer message after this is "replied since scheduling".
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True, help_text="Sent, skipped or cancelled.")
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who cancelled it or sent it early; empty when it went at its time.",
    )

    class Meta:
        ordering = ["send_at", "pk"]
        verbose_name_plural = "scheduled replies"
        indexes = [
            models.Index(
                fields=["send_at"],
                condition=Q(state="scheduled"),
                name="scheduled_reply_due",
            ),
            models.Index(fields=["ticket", "state"], name="scheduled_reply_ticket"),
        ]

    def __str__(self) -> str:
        return f"Reply on {self.ticket_id} at {self.send_at:%Y-%m-%d %H:%M} ({self.state})"


class TicketView(models.Model):
    """When a staff member last opened a ticket; newer customer messages show as unread."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ticket_views"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="views")
    last_viewed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="ticket_view_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.ticket_id} at {self.last_viewed_at:%Y-%m-%d %H:%M}"


class AttachmentState(models.TextChoices):
    PENDING = "pending", "Downloading"
    STORED = "stored", "Stored"
    FAILED = "failed", "Unavailable"


class Attachment(models.Model):
    """A file on a ticket: on a customer message, a reply, or an internal note.

    The bytes live in the default storage under `storage_key` (never a public URL); `content_type`
    is sniffed from the bytes, `declared_type` is what the sender claimed. Inbound files from
    messaging providers start `pending` with their `source_url` and are downloaded by a task;
    a failed download keeps the link and can be retried.
    """

    # PROTECT: files are conversation history, like the messages they came with.
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    note = models.ForeignKey(
        InternalNote,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127, blank=True)
    declared_type = models.CharField(max_length=127, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    storage_key = models.CharField(max_length=500, blank=True)
    preview_key = models.CharField(max_length=500, blank=True)
    content_id = models.CharField(
        max_length=255, blank=True, help_text="Inline e-mail image id (cid:)."
    )
    source_url = models.URLField(max_length=2000, blank=True)
    provider = models.CharField(max_length=20, blank=True)
    state = models.CharField(
        max_length=10, choices=AttachmentState.choices, default=AttachmentState.PENDING
    )
    error = models.CharField(max_length=500, blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    stored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="attachment_ticket_created"),
            models.Index(fields=["state"], name="attachment_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(message__isnull=True) | Q(note__isnull=True),
                name="attachment_one_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} on {self.ticket_id}"

    @property
    def is_stored(self) -> bool:
        return self.state == AttachmentState.STORED

    @property
    def is_previewable(self) -> bool:
        """An image or PDF: it gets a thumbnail and can be sent as an artwork proof."""
        return self.is_stored and self.content_type in PREVIEWABLE_TYPES
