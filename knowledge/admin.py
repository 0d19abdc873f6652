from django.contrib import admin

from knowledge.models import ProductKnowledge


@admin.register(ProductKnowledge)
class ProductKnowledgeAdmin(admin.ModelAdmin):
    list_display = ("title", "product_type", "vendor", "status", "shopify_updated_at")
    list_filter = ("status", "product_type")
    search_fields = ("title", "handle", "description_text")
    readonly_fields = ("content_hash", "embedded_hash")
