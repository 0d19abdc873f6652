from functools import partial

from django.contrib import admin, messages
from django.db import transaction

from knowledge.models import ProductKnowledge, ProductNote
from knowledge.tasks import sync_catalog_task


class ProductNoteInline(admin.TabularInline):
    model = ProductNote
    extra = 0
    fields = ("body", "author", "created_at")
    readonly_fields = fields

    # Notes are written on /knowledge/ through the services, which keep the search index in step.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProductKnowledge)
class ProductKnowledgeAdmin(admin.ModelAdmin):
    list_display = ("title", "product_type", "vendor", "status", "shopify_updated_at")
    list_filter = ("status", "product_type")
    search_fields = ("title", "handle", "description_text")
    readonly_fields = ("content_hash", "embedded_hash", "search_text")
    inlines = [ProductNoteInline]
    actions = ["sync_catalog_now"]

    def has_add_permission(self, request) -> bool:
        # Products come from Shopify (sync and webhooks), never typed in here.
        return False

    @admin.action(description="Sync the whole catalog from Shopify now (background)")
    def sync_catalog_now(self, request, queryset) -> None:
        transaction.on_commit(partial(sync_catalog_task.enqueue, triggered_by_id=request.user.pk))
        messages.info(request, "Catalog sync queued; see Shopify sync logs for progress.")
