"""Print-shop workflows: artwork proofs sent from a ticket, and tickets linked to orders."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class OrderSource(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    PERP = "perp", "PERP"


class TicketOrder(models.Model):
    """A ticket is about this order (or production job): parsed from messages or linked by staff."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="orders")
    number = models.CharField(max_length=64, help_text="Normalized: #1001, PD-ORD-10042, JOB-4411.")
    source = models.CharField(max_length=16, choices=OrderSource.choices)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when recognized automatically in a message.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "number"], name="ticket_order_unique"),
        ]
        indexes = [models.Index(fields=["number"], name="ticket_order_number")]

    def __str__(self) -> str:
        return f"{self.number} on {self.ticket_id}"


class ProofSource(models.TextChoices):
    PERP = "perp", "PERP artwork"
    UPLOAD = "upload", "Upload"
    ATTACHMENT = "attachment", "File on the ticket"


class ProofDecision(models.TextChoices):
    PENDING = "pending", "Waiting for the customer"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class PerpWriteBack(models.TextChoices):
    NOT_NEEDED = "", "Not linked to PERP"
    PENDING = "pending", "Pending"
    DONE = "done", "Written to PERP"
    FAILED = "failed", "Failed"


class Proof(models.Model):
    """One version of the artwork proof for one order line.

    A draft (no `sent_at`) has been uploaded and preflighted but not sent; sending gives it the
    next version number of its line and supersedes the older versions.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="proofs")
    order_number = models.CharField(max_length=64, blank=True)
    order_line = models.CharField(
        max_length=120, blank=True, help_text="The PERP artwork id, or a label for the line."
    )
    line_key = models.CharField(
        max_length=255, help_text="What versions count within: order + line, else ticket + line."
    )
    version = models.PositiveIntegerField(null=True, blank=True)
    token = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=10, choices=ProofSource.choices)
    perp_artwork_id = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="proofs/", max_length=255)
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    file_size = models.PositiveIntegerField()
    preview_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="A PNG thumbnail in storage, drawn by a task (the storefront widget's card).",
    )
    print_width_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    print_height_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    preflight = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, help_text="What the agent wrote to the customer.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_message = models.ForeignKey(
        "tickets.TicketMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    is_superseded = models.BooleanField(default=False)
    superseded_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(
        max_length=20, choices=ProofDecision.choices, default=ProofDecision.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_ip = models.GenericIPAddressField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    perp_status = models.CharField(
        max_length=10, choices=PerpWriteBack.choices, blank=True, default=PerpWriteBack.NOT_NEEDED
    )
    perp_attempts = models.PositiveSmallIntegerField(default=0)
    perp_error = models.TextField(blank=True)
    perp_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["line_key", "version"],
                condition=Q(version__isnull=False),
                name="proof_unique_version_per_line",
            ),
            models.CheckConstraint(
                condition=Q(decision="pending") | Q(decided_at__isnull=False),
                name="proof_decision_has_time",
            ),
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="proof_ticket_created")]

    def __str__(self) -> str:
        return f"Proof v{self.version or '?'} {self.line_key}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def is_decided(self) -> bool:
        return self.decision != ProofDecision.PENDING

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def line_label(self) -> str:
        return " · ".join(part for part in (self.order_number, self.order_line) if part)
