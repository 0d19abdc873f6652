import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.models import PerpSyncLog, ShopifySyncLog, SyncStatus
from integrations.sync import run_sync
from tickets.models import Customer, IdentityKind
from tickets.tests.factories import CustomerFactory, CustomerIdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    made = []
    for n in (1, 2, 3):
        customer = CustomerFactory()
        CustomerIdentityFactory(
            customer=customer, kind=IdentityKind.EMAIL, value=f"demo.customer.{n}@example.com"
        )
        made.append(customer)
    stranger = CustomerFactory()
    CustomerIdentityFactory(customer=stranger, value="stranger@example.com")
    return made


def test_shopify_customers_sync_links_and_logs(fake_shopify, customers):
    progress = []
    log = run_sync(
        provider="shopify", resource="customers", progress=lambda d, t: progress.append((d, t))
    )
    assert log.status == SyncStatus.SUCCEEDED and log.finished_at is not None
    assert (log.items_seen, log.items_created, log.items_updated, log.items_failed) == (4, 3, 0, 0)
    assert progress[-1] == (4, 4)
    assert Customer.objects.exclude(shopify_customer_id="").count() == 3
    again = run_sync(provider="shopify", resource="orders")
    assert (again.items_seen, again.items_created, again.items_updated) == (3, 0, 0)


def test_orders_sync_counts_changes(fake_perp, customers, monkeypatch):
    run_sync(provider="perp", resource="customers")
    monkeypatch.setattr(
        "integrations.fakes.demo_data.perp_wallet",
        lambda n: {
            "customer_id": f"CUST-{n:05d}",
            "tier": "Gold",
            "balance": "1.00",
            "currency": "USD",
        },
    )
    log = run_sync(provider="perp", resource="orders")
    assert log.status == SyncStatus.SUCCEEDED and log.items_updated == 3
    assert (
        Customer.objects.get(pk=customers[0].pk).external_data["perp"]["data"]["wallet"]["balance"]
        == "1.00"
    )


def test_sync_fails_and_logs_when_provider_down(fake_perp, customers, sleeps):
    fake_perp.is_down = True
    log = run_sync(provider="perp", resource="customers")
    assert log.status == SyncStatus.FAILED and "Stopped" in log.error
    assert sleeps == [0.5, 1.0]  # background syncs use the full retry policy
    assert log.items_seen == 1 and log.finished_at is not None


def test_per_customer_failure_is_counted(fake_perp, customers):
    Customer.objects.filter(pk=customers[0].pk).update(perp_customer_id="CUST-99999")
    log = run_sync(provider="perp", resource="orders")
    assert log.status == SyncStatus.SUCCEEDED and log.items_failed == 1
    assert f"customer {customers[0].pk}" in log.error


def test_sync_not_configured(settings, customers):
    settings.SHOPIFY_API_URL = ""
    log = run_sync(provider="shopify", resource="customers")
    assert log.status == SyncStatus.FAILED and "not configured" in log.error


def test_commands(fake_shopify, fake_perp, customers, capsys):
    call_command("sync_shopify", "--resource", "customers")
    out = capsys.readouterr().out
    assert "[##############################] 4/4" in out and "linked 3" in out
    call_command("sync_perp")
    assert PerpSyncLog.objects.filter(status=SyncStatus.SUCCEEDED).count() == 2
    fake_perp.is_down = True
    with pytest.raises(CommandError):
        call_command("sync_perp", "--resource", "orders", "--no-progress")


def test_admin_run_now_and_test_connection(client, fake_shopify, fake_perp, customers):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/integrations/shopifysynclog/")
    assert page.status_code == 200 and "Sync customers now" in page.content.decode()
    response = client.post("/admin/integrations/shopifysynclog/run/customers/")
    assert response.status_code == 302
    log = ShopifySyncLog.objects.get()  # the immediate task backend ran it
    assert log.triggered_by == admin and log.items_created == 3
    assert client.get("/admin/integrations/shopifysynclog/run/customers/").status_code == 403
    result = client.get("/admin/integrations/perpsynclog/test-connection/").content.decode()
    assert "printdesk-demo.myshopify.com" in result and "PERP fake-1.0" in result
    fake_perp.is_down = True
    result = client.get("/admin/integrations/perpsynclog/test-connection/").content.decode()
    assert "Failed" in result and "unavailable" in result
    response = client.post(
        "/admin/integrations/shopifysynclog/",
        {"action": "run_again_now", "_selected_action": [log.pk]},
    )
    assert response.status_code == 302 and ShopifySyncLog.objects.count() == 2
    assert "Sync products now" in page.content.decode()
    assert (
        "Sync products now" not in client.get("/admin/integrations/perpsynclog/").content.decode()
    )
    assert client.post("/admin/integrations/perpsynclog/run/products/").status_code == 404


def test_run_fake_providers_prints_settings_and_stops_on_ctrl_c(monkeypatch, capsys):
    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(
        "integrations.management.commands.run_fake_providers.Command.wait_forever", interrupted
    )
    call_command(
        "run_fake_providers",
        "--shopify-port",
        "0",
        "--perp-port",
        "0",
        "--shopify-products",
        "300",
        "--shopify-restore-rate",
        "50",
    )
    out = capsys.readouterr().out
    assert "SHOPIFY_API_URL=http://127.0.0.1:" in out and "/admin/api/2025-07/graphql.json" in out
    assert "# fake Shopify: 300 products, cost bucket 2000 points refilled 50/s" in out
    assert "PERP_API_KEY=perp_demo" in out


def test_admin_runs_the_catalog_sync_through_the_shopify_client(
    client, fake_shopify, monkeypatch, django_capture_on_commit_callbacks
):
    from integrations.fakes import demo_data
    from knowledge.models import ProductKnowledge

    monkeypatch.setattr("knowledge.embeddings.is_available", lambda: False)  # no ML model here
    client.force_login(UserFactory(role=Role.ADMIN, is_superuser=True))
    # Knowledge runs the sync (a subscriber) once the request's work is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/integrations/shopifysynclog/run/products/")
    assert response.status_code == 302
    log = ShopifySyncLog.objects.get(resource="products")
    assert log.status == SyncStatus.SUCCEEDED
    assert ProductKnowledge.objects.count() == len(demo_data.catalog()) == log.items_created
