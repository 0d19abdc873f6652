from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class ProductStatus(models.TextChoices):
    """Shopify's product statuses; only active products are offered to customers."""

    ACTIVE = "active", "Active"
    DRAFT = "draft", "Draft"
    ARCHIVED = "archived", "Archived"


class ProductKnowledge(models.Model):
    """A cached Shopify product, flattened for search, with its sentence embedding."""

    shopify_id = models.BigIntegerField(unique=True)
    title = models.CharField(max_length=255)
    handle = models.SlugField(max_length=255, db_index=True)
    product_type = models.CharField(max_length=120, blank=True)
    vendor = models.CharField(max_length=120, blank=True)
    tags = models.JSONField(default=list, blank=True)
    description_text = models.TextField(blank=True)
    variants = models.JSONField(default=list, blank=True)
    images = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, default="active")
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    search_text = models.TextField(
        blank=True, editable=False, help_text="Flattened product text plus staff notes."
    )
    search_vector = SearchVectorField(
        null=True,
        editable=False,
        help_text="PostgreSQL only: weighted title/keywords/body tsvector (GIN indexed).",
    )
    embedding = models.BinaryField(
        null=True, blank=True, editable=False, help_text="One unit vector per search passage."
    )
    embedded_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "product knowledge"

    def __str__(self) -> str:
        return self.title

    @property
    def price_range(self) -> tuple[Decimal, Decimal] | None:
        """Lowest and highest variant price, or None without priced variants."""
        prices = []
        for variant in self.variants:
            try:
                prices.append(Decimal(str(variant.get("price"))))
            except (InvalidOperation, ValueError):
                continue
        return (min(prices), max(prices)) if prices else None


class ProductNote(models.Model):
    """A staff-written note or FAQ entry about a product (turnaround, stocks); searched too."""

    product = models.ForeignKey(ProductKnowledge, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note on {self.product}"


class SuggestionUse(models.Model):
    """An agent inserted a suggested product into a reply: the customer's question and the
    product that answered it. Extra evaluation data, and a boost for similar future questions."""

    product = models.ForeignKey(
        ProductKnowledge, on_delete=models.CASCADE, related_name="suggestion_uses"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    question = models.TextField()
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "product"], name="knowledge_suggestion_use_once_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} for {self.question[:40]!r}"


class SearchRevision(models.Model):
    """One row of counters that the search's in-memory indexes key on, bumped by every write
    they depend on (knowledge/revision.py): a search reads this row, not an aggregate."""

    catalog = models.PositiveBigIntegerField(default=0)  # products and their notes
    examples = models.PositiveBigIntegerField(default=0)  # suggestion uses

    def __str__(self) -> str:
        return f"catalog {self.catalog}, examples {self.examples}"
