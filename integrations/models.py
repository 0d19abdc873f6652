import re
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models


class Provider(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    PERP = "perp", "PERP"
    TWILIO = "twilio", "Twilio"
    SENDGRID = "sendgrid", "SendGrid"
    META = "meta", "Meta"


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """Every verified inbound provider call: the idempotency key and the replay log."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    kind = models.CharField(max_length=64, help_text="Topic or endpoint, e.g. orders/create.")
    event_id = models.CharField(max_length=255)
    is_verified = models.BooleanField(default=False)
    headers = models.JSONField(default=dict, blank=True)
    # Exactly what arrived (for a batch provider: the item, losslessly re-encoded), so a request
    # that cannot be processed today can be reprocessed after a fix. Large bodies go to a file.
    raw_body = models.BinaryField(blank=True, default=b"")
    raw_file = models.FileField(upload_to="webhooks/raw/%Y/%m/%d/", max_length=255, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    text_repairs = models.JSONField(
        default=list,
        blank=True,
        help_text="Where NUL characters or lone surrogates were replaced to store the payload.",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_unique_event"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status")]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_id}"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncLog(models.Model):
    resource = models.CharField(max_length=32, help_text="customers, orders or products.")
    status = models.CharField(max_length=12, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    items_seen = models.PositiveIntegerField(default=0)
    items_created = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    items_failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.resource} sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SyncMode(models.TextChoices):
    PAGED = "paged", "Cost-sized pages"
    BULK = "bulk", "Bulk operation"


class ShopifySyncLog(SyncLog):
    """Also the checkpoint of a products sync, so a re-run after a crash resumes it."""

    mode = models.CharField(max_length=8, choices=SyncMode.choices, blank=True)
    items_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Products to go through, once known (progress)."
    )
    cursor = models.TextField(blank=True, help_text="Paged mode: the last page's end cursor.")
    seen_ids = models.JSONField(
        default=list, blank=True, help_text="Paged mode: product ids seen so far in this pass."
    )
    bulk_operation_id = models.CharField(
        max_length=100, blank=True, help_text="Bulk mode: the Shopify BulkOperation gid."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is on it until then; after, it crashed."
    )

    @property
    def progress_percent(self) -> int | None:
        if not self.items_total:
            return None
        return min(100, 100 * self.items_seen // self.items_total)


class PerpSyncLog(SyncLog):
    pass


class ChannelConfiguration(models.Model):
    """Per-channel switches and sender identities staff can change without a deploy."""

    channel = models.CharField(max_length=16, unique=True)
    is_enabled = models.BooleanField(default=True)
    display_name = models.CharField(max_length=100, blank=True)
    sender = models.CharField(max_length=254, blank=True, help_text="From address or number.")
    threading_window_hours = models.PositiveIntegerField(
        default=72, help_text="Messaging channels: reuse the latest open ticket within this window."
    )
    options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or self.channel


class InboundEventNeedingAttention(WebhookEvent):
    """The admin's list of stored webhooks that failed (or never ran), with a reprocess action."""

    class Meta:
        proxy = True
        verbose_name = "inbound event that needs attention"
        verbose_name_plural = "inbound events that need attention"


class OrderActionKind(models.TextChoices):
    REPRINT = "reprint", "Reprint"
    REFUND = "refund", "Refund"
    CANCEL = "cancel", "Cancel order"
    ADDRESS = "address", "Edit shipping address"
    DISCOUNT = "discount", "Discount code"


class OrderActionReason(models.TextChoices):
    MISPRINT = "misprint", "Misprint"
    DAMAGED = "damaged", "Damaged in transit"
    WRONG_ITEM = "wrong_item", "Wrong item or size"
    LATE = "late", "Late delivery"
    CUSTOMER = "customer", "Customer request"
    OTHER = "other", "Other"


class OrderAction(models.Model):
    """One Shopify order action taken from a ticket (docs/orders.md): what was done, by whom,
    for how much, and what Shopify answered. Only completed actions are stored; a refusal
    changes nothing and is shown to the agent."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="order_actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=OrderActionKind.choices)
    reason = models.CharField(max_length=16, choices=OrderActionReason.choices, blank=True)
    order_name = models.CharField(max_length=32, blank=True, help_text="#1001; empty for codes.")
    order_gid = models.CharField(max_length=100, blank=True)
    product = models.CharField(max_length=255, blank=True, help_text="Line title, for reports.")
    quantity = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    perp_reference = models.CharField(max_length=64, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Shopify ids created.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            (
                "edit_orders",
                "Can reprint, cancel and edit Shopify orders and create discount codes",
            ),
            ("refund_orders", "Can refund Shopify orders"),
        ]
        indexes = [models.Index(fields=["kind", "created_at"], name="order_action_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.order_name} on {self.ticket_id}"


# Web chat (the storefront widget, docs/channels.md "Web chat") ----------------------------------

PRECHAT_FIELDS = ("name", "email", "order")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def new_identity_secret() -> str:
    return secrets.token_hex(32)


def validate_business_hours(value) -> None:
    """{"mon": ["09:00", "17:30"], ...}: the days listed are open between the two clock times."""
    if not isinstance(value, dict) or not set(value) <= set(WEEKDAYS):
        raise ValidationError(f"Business hours are keyed by {', '.join(WEEKDAYS)}.")
    for day, span in value.items():
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(t, str) and CLOCK.match(t) for t in span)
            or span[0] >= span[1]
        ):
            raise ValidationError(f'{day}: give ["HH:MM", "HH:MM"], opening before closing.')


def validate_prechat_fields(value) -> None:
    if not isinstance(value, list) or not set(value) <= set(PRECHAT_FIELDS):
        raise ValidationError(f"Pre-chat fields are a list of {', '.join(PRECHAT_FIELDS)}.")


def validate_allowed_domains(value: str) -> None:
    for line in value.split():
        if not DOMAIN.match(line):
            raise ValidationError(f"'{line}' is not a host name (with an optional :port).")


CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DOMAIN = re.compile(
    r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)


class WebChatInbox(models.Model):
    """One storefront widget: what it looks like, where it may run and when someone answers."""

    key = models.SlugField(
        max_length=40, unique=True, help_text="The snippet's data-inbox value (public)."
    )
    shop_name = models.CharField(max_length=100)
    greeting = models.CharField(max_length=255, default="Hi! Ask us anything about your order.")
    colour = models.CharField(
        max_length=7,
        default="#1f5fbf",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #1f5fbf.")],
    )
    allowed_domains = models.TextField(
        help_text="The shop's hosts, one per line (shop.example.com, *.myshopify.com, host:port); "
        "the widget and its socket refuse every other page origin.",
        validators=[validate_allowed_domains],
    )
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_business_hours],
        help_text='{"mon": ["09:00", "17:00"], ...} in the time zone below; empty: always open.',
    )
    time_zone = models.CharField(max_length=64, default="Europe/London")
    prechat_fields = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_prechat_fields],
        help_text='Asked before the first message: any of "name", "email", "order".',
    )
    identity_secret = models.CharField(
        max_length=128,
        default=new_identity_secret,
        help_text="Signs logged-in customers' emails in the theme (HMAC-SHA256); keep it secret.",
    )
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "web chat widget"

    def __str__(self) -> str:
        return f"{self.shop_name} ({self.key})"

    def clean(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": "Unknown time zone."}) from exc

    @property
    def domains(self) -> list[str]:
        return [line.lower() for line in self.allowed_domains.split()]


class WebChatConversation(models.Model):
    """A visitor's conversation on one ticket, with what the agent sees beside it: the page,
    the cart and the order they typed. `contact_email` is what the visitor typed (never used to
    find a customer); replies also go there by email when they left it while we were away."""

    inbox = models.ForeignKey(WebChatInbox, on_delete=models.CASCADE, related_name="conversations")
    visitor_id = models.CharField(max_length=64, db_index=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="web_conversations"
    )
    verified_email = models.EmailField(max_length=320, blank=True)
    contact_email = models.EmailField(max_length=320, blank=True)
    reply_by_email = models.BooleanField(default=False)
    page_url = models.URLField(max_length=2000, blank=True)
    cart = models.JSONField(default=dict, blank=True)
    order_number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["visitor_id", "ticket"], name="webchat_visitor_ticket")
        ]

    def __str__(self) -> str:
        return f"Web chat {self.visitor_id[:8]} on {self.ticket_id}"


class TemplateApproval(models.TextChoices):
    """WhatsApp's approval of a Content template, as Twilio's ApprovalRequests reports it."""

    APPROVED = "approved", "Approved"
    PENDING = "pending", "Pending"
    RECEIVED = "received", "Received"
    REJECTED = "rejected", "Rejected"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled"
    UNSUBMITTED = "unsubmitted", "Not submitted"


class MessageTemplate(models.Model):
    """A WhatsApp template from Twilio's Content API (synced, never edited here but for the
    placeholder mapping): the only thing that may start a WhatsApp conversation after 24 h."""

    sid = models.CharField(max_length=34, unique=True, help_text="Twilio Content SID (HX…).")
    friendly_name = models.CharField(max_length=255)
    language = models.CharField(max_length=16, blank=True)
    body = models.TextField(help_text="The twilio/text body, with {{1}}-style variables.")
    sample_variables = models.JSONField(
        default=dict, blank=True, help_text="Twilio's default values per variable."
    )
    placeholders = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per variable, the ticket value that fills it, e.g. {"1": "customer.first_name",'
        ' "2": "order.number"}.',
    )
    approval_status = models.CharField(
        max_length=16, choices=TemplateApproval.choices, default=TemplateApproval.UNSUBMITTED
    )
    category = models.CharField(max_length=32, blank=True)
    rejection_reason = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Present in Twilio at the last sync.")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["friendly_name", "language"]

    def __str__(self) -> str:
        return f"{self.friendly_name} ({self.language or '-'})"

    @property
    def is_sendable(self) -> bool:
        return self.is_active and self.approval_status == TemplateApproval.APPROVED
