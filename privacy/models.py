"""Privacy requests: a customer's data exported or erased, by staff or by Shopify's compliance
webhooks (docs/privacy.md). The row is the request's status and outcome; it never holds
personal data itself (the export archive is a file, deleted when the customer is erased)."""

from django.conf import settings
from django.db import models


class RequestKind(models.TextChoices):
    EXPORT = "export", "Export personal data"
    ERASE = "erase", "Erase personal data"
    SHOP_REDACT = "shop_redact", "Shop data removal (shop/redact)"


class RequestSource(models.TextChoices):
    STAFF = "staff", "Staff"
    SHOPIFY = "shopify", "Shopify compliance webhook"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class PrivacyRequest(models.Model):
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    source = models.CharField(max_length=16, choices=RequestSource.choices)
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    customer = models.ForeignKey(
        "tickets.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="privacy_requests",
        help_text="Empty when a Shopify request named nobody we know.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    webhook_event_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The stored Shopify webhook that asked for it."
    )
    shopify_request_id = models.CharField(max_length=64, blank=True)
    archive = models.FileField(upload_to="privacy/", max_length=255, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Counts only, never values.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("erase_customer", "Can erase a customer's personal data")]
        indexes = [models.Index(fields=["customer", "-created_at"], name="privacy_customer")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"
