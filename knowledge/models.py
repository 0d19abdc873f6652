from django.db import models


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
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedded_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "product knowledge"

    def __str__(self) -> str:
        return self.title
