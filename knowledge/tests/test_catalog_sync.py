"""The catalog sync against the fake Shopify, which enforces query cost and throttling."""

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from integrations.fakes import demo_data
from integrations.fakes.shopify_cost import CostBucket
from integrations.models import ShopifySyncLog, SyncMode, SyncStatus, WebhookEvent
from integrations.shopify.bulk import BulkProductReader
from integrations.shopify.client import BULK_PRODUCTS_QUERY, PRODUCT_PAGE_SIZE, ShopifyClient
from integrations.shopify.views import sign
from knowledge import catalog_sync
from knowledge.models import ProductKnowledge
from knowledge.tasks import sync_catalog_task

pytestmark = pytest.mark.django_db


class Crash(BaseException):
    """Stands for the process dying: no `except Exception` sees it, nothing is cleaned up."""


def operations(fake) -> list[str]:
    return [json.loads(r["body"]).get("operationName") for r in fake.requests if r["body"]]


def test_a_5000_product_catalog_syncs_in_bulk_with_progress(fake_shopify, clock):
    fake_shopify.products = demo_data.large_catalog(5000)
    updates = []
    log = catalog_sync.sync_catalog(progress=updates.append, sleep=clock.sleep)
    assert (log.status, log.mode) == (SyncStatus.SUCCEEDED, SyncMode.BULK)
    assert log.items_seen == log.items_created == log.items_total == 5000
    assert ProductKnowledge.objects.count() == 5000
    sample = ProductKnowledge.objects.get(shopify_id=8_800_000_004_321)
    model = fake_shopify.products[4321]
    assert [v["sku"] for v in sample.variants] == [v["sku"] for v in model["variants"]]
    assert sample.images[0]["url"] == model["images"][0]["src"]
    # Shopify exported first (polled every POLL_SECONDS), then the import reported each batch.
    exporting = [u.done for u in updates if u.phase == "exporting"]
    assert exporting == [5000 * n // (fake_shopify.bulk_polls + 1) for n in (1, 2)]
    assert [u.phase for u in updates[:2]] == ["exporting", "exporting"]
    importing = [u for u in updates if u.phase == "importing"]
    assert [u.done for u in importing] == list(range(100, 5001, 100))
    assert {u.total for u in importing} == {5000}
    assert clock.sleeps == [catalog_sync.POLL_SECONDS] * fake_shopify.bulk_polls
    assert operations(fake_shopify).count("BulkOperationRunQuery") == 1
    download = next(r for r in fake_shopify.requests if r["method"] == "GET")
    assert "X-Shopify-Access-Token" not in download["headers"]  # a signed URL, not our API


def test_bulk_sync_resumes_after_a_crash(fake_shopify, clock):
    fake_shopify.products = demo_data.large_catalog(350)

    def crash_after_two_batches(update):
        if update.phase == "importing" and update.done == 200:
            raise Crash

    with pytest.raises(Crash):
        catalog_sync.sync_catalog(progress=crash_after_two_batches, sleep=clock.sleep)
    log = ShopifySyncLog.objects.get()
    assert (log.status, log.items_seen, log.bulk_operation_id) == (
        SyncStatus.RUNNING,
        200,
        "gid://shopify/BulkOperation/1",
    )
    # The crashed worker's lease is still on the log: a run right away does not take it over.
    with pytest.raises(catalog_sync.ApplicationError) as busy:
        catalog_sync.sync_catalog(sleep=clock.sleep)
    assert busy.value.code == "sync_busy"
    with time_machine.travel(timezone.now() + catalog_sync.LEASE + timedelta(seconds=1)):
        resumed = catalog_sync.sync_catalog(sleep=clock.sleep)
    assert resumed.pk == log.pk and resumed.status == SyncStatus.SUCCEEDED
    assert resumed.items_seen == resumed.items_created == 350
    assert ProductKnowledge.objects.count() == 350
    assert operations(fake_shopify).count("BulkOperationRunQuery") == 1  # the same operation


def test_paged_sync_resumes_from_its_cursor(fake_shopify, clock):
    fake_shopify.products = demo_data.large_catalog(20)

    def crash_on_third_page(update):
        if update.done == 3 * PRODUCT_PAGE_SIZE:
            raise Crash

    with pytest.raises(Crash):
        catalog_sync.sync_catalog(mode="paged", progress=crash_on_third_page)
    log = ShopifySyncLog.objects.get()
    assert log.cursor and len(log.seen_ids) == log.items_seen == 3 * PRODUCT_PAGE_SIZE
    fake_shopify.requests.clear()
    with time_machine.travel(timezone.now() + catalog_sync.LEASE + timedelta(seconds=1)):
        resumed = catalog_sync.sync_catalog()
    assert resumed.pk == log.pk and resumed.items_seen == 20
    assert ProductKnowledge.objects.count() == 20
    first_after_resume = json.loads(fake_shopify.requests[0]["body"])
    assert first_after_resume["variables"]["after"] == log.cursor


def test_a_throttled_run_backs_off_and_completes(fake_shopify, clock):
    # A busy shop: the bucket is nearly empty and refills slowly.
    fake_shopify.bucket = CostBucket(maximum=1000, restore_rate=10, clock=clock)
    fake_shopify.drain(50)
    log = catalog_sync.sync_catalog(mode="paged")
    assert log.status == SyncStatus.SUCCEEDED
    assert log.items_seen == len(demo_data.catalog()) == ProductKnowledge.objects.count()
    throttled = len(fake_shopify.requests) - len(fake_shopify.costs)
    assert throttled > 0 and len(clock.sleeps) == throttled


def test_the_finish_webhook_continues_a_waiting_sync(
    fake_shopify, client, settings, django_capture_on_commit_callbacks
):
    settings.SHOPIFY_WEBHOOK_SECRET = "shpss_test_secret"
    fake_shopify.products = demo_data.large_catalog(300)
    fake_shopify.bulk_polls = 1
    # The immediate test backend cannot defer the next poll: the task starts the export and stops.
    log_id = sync_catalog_task.call(mode="bulk")
    log = ShopifySyncLog.objects.get(pk=log_id)
    assert (log.status, log.bulk_operation_id, log.lease_until) == (
        SyncStatus.RUNNING,
        "gid://shopify/BulkOperation/1",
        None,
    )
    assert not ProductKnowledge.objects.exists()
    body = json.dumps(fake_shopify.bulk_finish_webhook(1)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/webhooks/shopify",
            data=body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC="bulk_operations/finish",
            HTTP_X_SHOPIFY_EVENT_ID="evt-bulk-1",
            HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, "shpss_test_secret"),
        )
    assert response.status_code == 200
    assert WebhookEvent.objects.get(event_id="evt-bulk-1").status == "processed"
    log.refresh_from_db()
    assert log.status == SyncStatus.SUCCEEDED and log.items_seen == 300
    assert ProductKnowledge.objects.count() == 300


def test_a_failed_bulk_operation_fails_the_log_and_the_rerun_starts_over(fake_shopify, clock):
    fake_shopify.bulk_failure = "INTERNAL_SERVER_ERROR"
    with pytest.raises(catalog_sync.CatalogSyncFailed, match="INTERNAL_SERVER_ERROR"):
        catalog_sync.sync_catalog(mode="bulk", sleep=clock.sleep)
    log = ShopifySyncLog.objects.get()
    assert log.status == SyncStatus.FAILED and log.bulk_operation_id == ""
    fake_shopify.bulk_failure = None
    again = catalog_sync.sync_catalog(sleep=clock.sleep)
    assert again.pk == log.pk and again.status == SyncStatus.SUCCEEDED
    assert again.items_seen == len(demo_data.catalog())
    assert operations(fake_shopify).count("BulkOperationRunQuery") == 2


def test_a_bulk_query_already_running_is_adopted_only_if_it_is_ours(fake_shopify, clock):
    shop = ShopifyClient.from_settings()
    running = shop.start_bulk_query(BULK_PRODUCTS_QUERY)  # e.g. started by a run that crashed
    log = catalog_sync.sync_catalog(mode="bulk", sleep=clock.sleep)
    assert log.bulk_operation_id == running.id and log.status == SyncStatus.SUCCEEDED
    shop.start_bulk_query("{ products { edges { node { id } } } }")
    with pytest.raises(catalog_sync.CatalogSyncFailed, match="already in progress"):
        catalog_sync.sync_catalog(mode="bulk", sleep=clock.sleep)


def test_restart_abandons_an_unfinished_sync(fake_shopify):
    stale = ShopifySyncLog.objects.create(resource="products", mode=SyncMode.PAGED, cursor="x")
    log = catalog_sync.sync_catalog(restart=True)
    stale.refresh_from_db()
    assert stale.status == SyncStatus.FAILED and "Abandoned" in stale.error
    assert log.pk != stale.pk and log.status == SyncStatus.SUCCEEDED


def test_an_old_unfinished_sync_is_not_resumed(fake_shopify):
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        old = ShopifySyncLog.objects.create(resource="products", mode=SyncMode.BULK)
    log = catalog_sync.sync_catalog()
    assert log.pk != old.pk


def test_sync_products_command_draws_a_progress_bar(fake_shopify):
    out = StringIO()
    call_command("sync_products", "--mode", "bulk", "--poll-seconds", "0", stdout=out)
    text = out.getvalue()
    total = len(demo_data.catalog())
    assert "Shopify is exporting the catalog" in text
    assert f"[{'#' * 30}] {total}/{total} products (100%)" in text
    assert f"Products: {total} seen, {total} new, 0 changed, bulk mode" in text


def test_bulk_reader_reassembles_products_and_reports_late_lines():
    lines = [
        {"id": "gid://shopify/Product/1", "title": "Flyers"},
        {
            "id": "gid://shopify/ProductVariant/11",
            "sku": "F-1",
            "__parentId": "gid://shopify/Product/1",
        },
        {"image": {"url": "https://cdn.test/f.png"}, "__parentId": "gid://shopify/Product/1"},
        {"id": "gid://shopify/Product/2", "title": "Posters"},
        {
            "id": "gid://shopify/ProductVariant/12",
            "sku": "F-2",
            "__parentId": "gid://shopify/Product/1",
        },
    ]
    reader = BulkProductReader(lines)
    flyers, posters = list(reader)
    assert [v.sku for v in flyers.variants] == ["F-1"]
    assert [i.url for i in flyers.images] == ["https://cdn.test/f.png"]
    assert posters.variants == [] and reader.late_lines == 1
