from django.conf import settings
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
