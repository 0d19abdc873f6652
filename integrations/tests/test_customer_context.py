"""The customer context: a read of what is stored (no HTTP, no writes), a refresh task that asks
Shopify and PERP, and pages that request the refresh once while it is pending."""

from datetime import timedelta

import pytest
import requests
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from integrations.context_refresh import fetch_order_detail, refresh_customer_context
from integrations.selectors import (
    FRESH_FOR,
    find_order_numbers,
    get_customer_context,
    list_ticket_order_numbers,
    refresh_requested_key,
)
from integrations.tasks import refresh_customer_context_task
from tickets.models import Customer, IdentityKind
from tickets.services import link_customer_account, store_customer_snapshot
from tickets.tests.factories import CustomerFactory, CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_customer():
    customer = CustomerFactory(name="Demo Customer 5")
    CustomerIdentityFactory(
        customer=customer, kind=IdentityKind.EMAIL, value="demo.customer.5@example.com"
    )
    return customer


@pytest.fixture
def providers(fake_shopify, fake_perp):
    return fake_shopify, fake_perp


@pytest.fixture
def no_http(monkeypatch):
    """Any HTTP call fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("HTTP call made")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)


def reload(customer: Customer) -> Customer:
    return Customer.objects.prefetch_related("identities").get(pk=customer.pk)


def age_checks(customer: Customer, by: timedelta) -> None:
    """Move the stored checks back in time, as if they were made `by` ago."""
    data = dict(customer.external_data)
    for provider in ("shopify", "perp"):
        entry = dict(data[provider])
        for key in ("fetched_at", "checked_at"):
            if key in entry:
                entry[key] = (timezone.now() - by).isoformat()
        data[provider] = entry
    Customer.objects.filter(pk=customer.pk).update(external_data=data)


# The refresh -----------------------------------------------------------------------------------


def test_refresh_matches_by_email_and_stores_ids(providers, demo_customer):
    context = refresh_customer_context(customer_id=demo_customer.pk)
    assert context.shopify_state.status == "ok" and context.perp_state.status == "ok"
    assert [o.name for o in context.shopify.orders] == ["#1015", "#1014", "#1013"]
    perp = context.perp
    assert perp.wallet.tier == "Platinum" and perp.order_count == 3
    assert perp.orders[0].production.jobs and perp.orders[0].artwork[0].thumbnail_url
    assert len(perp.invoices) == 3
    demo_customer.refresh_from_db()
    assert demo_customer.shopify_customer_id == "6000000005"
    assert demo_customer.perp_customer_id == "CUST-00005"
    assert demo_customer.external_data["links"] == {"shopify": "auto", "perp": "auto"}
    assert demo_customer.external_data["perp"]["data"]["wallet"]["tier"] == "Platinum"
    assert AnalyticsEvent.objects.filter(name="customer.linked").count() == 2


def test_matches_by_phone_when_no_email(providers):
    customer = CustomerFactory()
    CustomerIdentityFactory(customer=customer, kind=IdentityKind.WHATSAPP, value="+447700900007")
    context = refresh_customer_context(customer_id=customer.pk)
    assert context.shopify.customer.id == 6_000_000_007
    assert context.perp.customer.id == "CUST-00007"


def test_the_refresh_task_stores_the_context_and_ends_the_pending_marker(providers, demo_customer):
    cache.set(refresh_requested_key(demo_customer.pk), "now")
    result = refresh_customer_context_task.enqueue(customer_id=demo_customer.pk)
    assert result.return_value == "shopify=ok perp=ok"
    assert refresh_customer_context_task.queue_name == "bulk"
    context = get_customer_context(customer=reload(demo_customer))
    assert context.perp.wallet.tier == "Platinum" and not context.is_stale
    assert not context.is_refreshing


def test_no_http_call_runs_inside_a_transaction(providers, demo_customer, monkeypatch):
    """The only lock a refresh takes is the customer row's, when storing: after the calls."""
    send = requests.adapters.HTTPAdapter.send
    outer = len(connection.atomic_blocks)  # the test's own transaction
    calls = []

    def outside_transactions(self, *args, **kwargs):
        calls.append(len(connection.atomic_blocks))
        return send(self, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", outside_transactions)
    refresh_customer_context(customer_id=demo_customer.pk)
    assert calls and set(calls) == {outer}


def test_provider_down_keeps_the_last_good_data_next_to_the_error(providers, demo_customer, sleeps):
    _shopify, perp = providers
    refresh_customer_context(customer_id=demo_customer.pk)
    perp.is_down = True
    refresh_customer_context(customer_id=demo_customer.pk, is_interactive=True)
    context = get_customer_context(customer=reload(demo_customer))
    assert context.shopify_state.status == "ok"
    assert context.perp_state.status == "error" and context.perp_state.error_code == "unavailable"
    assert context.perp_state.is_fallback and context.perp_state.fetched_at is not None
    assert context.perp.wallet.tier == "Platinum"  # the stored snapshot
    assert set(context.errors) == {"perp"}
    assert sleeps == [0.25]  # interactive: one retry, then the stored data


def test_a_failed_check_is_retried_sooner(providers, demo_customer):
    _shopify, perp = providers
    perp.is_down = True
    refresh_customer_context(customer_id=demo_customer.pk)
    customer = reload(demo_customer)
    assert not get_customer_context(customer=customer).is_stale
    data = dict(customer.external_data)
    data["perp"] = {
        **data["perp"],
        "checked_at": (timezone.now() - timedelta(seconds=20)).isoformat(),
    }
    Customer.objects.filter(pk=customer.pk).update(external_data=data)
    context = get_customer_context(customer=reload(demo_customer))
    assert context.perp_state.is_stale and not context.shopify_state.is_stale


def test_provider_down_without_earlier_data(fake_shopify, settings, demo_customer):
    settings.PERP_API_URL = "http://127.0.0.1:9"  # nothing listens there
    context = refresh_customer_context(customer_id=demo_customer.pk)
    assert context.perp_state.status == "error" and not context.perp_state.is_fallback
    assert context.perp is None and context.shopify_state.status == "ok"


def test_not_configured_and_not_linked(fake_shopify, settings):
    settings.PERP_API_URL = ""
    stranger = CustomerFactory()
    CustomerIdentityFactory(customer=stranger, value="stranger@example.com")
    context = refresh_customer_context(customer_id=stranger.pk)
    assert context.perp_state.status == "not_configured"
    assert context.shopify_state.status == "not_linked" and context.shopify is None
    assert not context.is_stale and context.checked_at is not None


def test_manual_unlink_stops_auto_matching(providers, demo_customer):
    refresh_customer_context(customer_id=demo_customer.pk)
    agent = UserFactory(role=Role.AGENT)
    link_customer_account(
        customer=demo_customer, provider="shopify", external_id="", actor=agent, is_manual=True
    )
    context = refresh_customer_context(customer_id=demo_customer.pk)
    assert context.shopify_state.status == "not_linked"
    customer = reload(demo_customer)
    assert customer.shopify_customer_id == "" and customer.external_data["links"]["shopify"] == (
        "unlinked"
    )
    link_customer_account(
        customer=customer, provider="shopify", external_id="6000000009", actor=agent, is_manual=True
    )
    assert get_customer_context(customer=reload(customer)).shopify_state.status == "not_fetched"
    context = refresh_customer_context(customer_id=customer.pk)
    assert context.shopify.customer.name == "Demo Customer 9"


def test_a_refresh_answer_for_an_account_relinked_meanwhile_is_dropped(demo_customer):
    link_customer_account(customer=demo_customer, provider="perp", external_id="CUST-00001")
    stored = store_customer_snapshot(
        customer_id=demo_customer.pk,
        provider="perp",
        fetched_for="",
        external_id="CUST-00005",
        snapshot={"checked_at": timezone.now().isoformat()},
    )
    assert stored is None
    customer = reload(demo_customer)
    assert customer.perp_customer_id == "CUST-00001" and "perp" not in customer.external_data


def test_viewer_cannot_link(demo_customer):
    viewer = UserFactory(role=Role.VIEWER)
    with pytest.raises(Exception, match="permission"):
        link_customer_account(
            customer=demo_customer, provider="perp", external_id="X", actor=viewer, is_manual=True
        )


# The read --------------------------------------------------------------------------------------


def test_the_selector_reads_what_is_stored_without_http_or_queries(
    providers, demo_customer, no_http, django_assert_num_queries
):
    shopify, perp = providers
    customer = reload(demo_customer)
    with django_assert_num_queries(0):
        never = get_customer_context(customer=customer)
    assert never.shopify_state.status == never.perp_state.status == "not_fetched"
    assert never.is_stale and never.checked_at is None and never.shopify is None
    assert shopify.requests == [] and perp.requests == []


def test_the_selector_shows_the_stored_data_and_its_age(providers, demo_customer, monkeypatch):
    refresh_customer_context(customer_id=demo_customer.pk)
    customer = reload(demo_customer)
    age_checks(customer, FRESH_FOR + timedelta(seconds=1))
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda *a, **k: pytest.fail("the selector made an HTTP call"),
    )
    context = get_customer_context(customer=reload(customer))
    assert context.shopify.orders[0].name == "#1015" and context.perp.wallet.tier == "Platinum"
    assert context.is_stale and context.perp_state.is_stale
    assert context.checked_at < timezone.now() - FRESH_FOR
    assert Customer.objects.get(pk=customer.pk).external_data == reload(customer).external_data


def test_order_detail_by_either_number(providers, demo_customer):
    refresh_customer_context(customer_id=demo_customer.pk)
    customer = reload(demo_customer)
    by_name = fetch_order_detail(customer=customer, number="#1013")
    assert by_name.shopify.name == "#1013" and by_name.perp.order.number == "PD-ORD-10013"
    assert by_name.invoices[0].number == "INV-1013"
    by_perp = fetch_order_detail(customer=customer, number="PD-ORD-10014")
    assert by_perp.perp.production is not None and by_perp.shopify.name == "#1014"
    missing = fetch_order_detail(customer=customer, number="#999999")
    assert missing.shopify is None and missing.perp is None and not missing.errors


# Pages -----------------------------------------------------------------------------------------


def refreshes_enqueued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith="refresh_customer_context_task"))


def test_a_stale_sidebar_enqueues_one_refresh_while_it_is_pending(
    client, providers, demo_customer, database_tasks, django_assert_max_num_queries
):
    shopify, perp = providers
    client.force_login(UserFactory(role=Role.AGENT))
    url = f"/customers/{demo_customer.pk}/context/"
    html = client.get(url).content.decode()
    assert "refreshing…" in html and 'hx-trigger="load delay:2s"' in html
    with django_assert_max_num_queries(8):
        polled = client.get(url).content.decode()
    assert "refreshing…" in polled and 'hx-trigger="load delay:2s"' in polled
    for _ in range(2):  # more polls, another tab, the API
        client.get(url)
    client.get(f"/api/customers/{demo_customer.pk}/context/")
    [task] = refreshes_enqueued()
    assert task.queue_name == "bulk" and task.args_kwargs["kwargs"] == {
        "customer_id": demo_customer.pk
    }
    assert shopify.requests == [] and perp.requests == []  # pages never ask the providers

    refresh_customer_context(customer_id=demo_customer.pk)  # what the worker runs
    with django_assert_max_num_queries(8):
        done = client.get(url).content.decode()
    assert "refreshing…" not in done and "load delay:2s" not in done and "Platinum" in done
    assert len(refreshes_enqueued()) == 1


def test_the_refresh_button_asks_again_even_when_fresh(
    client, providers, demo_customer, database_tasks
):
    refresh_customer_context(customer_id=demo_customer.pk)
    client.force_login(UserFactory(role=Role.AGENT))
    page = client.get(f"/customers/{demo_customer.pk}/context/").content.decode()
    assert "refreshing…" not in page
    assert refreshes_enqueued() == []
    url = f"/customers/{demo_customer.pk}/context/refresh/"
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert "refreshing…" in response.content.decode() and "Platinum" in response.content.decode()
    client.post(url, HTTP_HX_REQUEST="true")
    assert len(refreshes_enqueued()) == 1
    assert client.post(url).status_code == 302


def test_the_refresh_button_needs_permission_and_post(client, demo_customer):
    url = f"/customers/{demo_customer.pk}/context/refresh/"
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(UserFactory(role=Role.AGENT))
    assert client.get(url).status_code == 405


# Order numbers ---------------------------------------------------------------------------------


def test_find_order_numbers():
    text = "Re #1001 and PD-ORD-10042, also #1001 again; not &#39; or #12 or abc#1234"
    assert find_order_numbers(text) == ["#1001", "PD-ORD-10042"]


def test_ticket_mentions(providers, demo_customer):
    ticket = TicketFactory(customer=demo_customer, subject="Where is my order #1014?")
    assert list_ticket_order_numbers(ticket=ticket) == ["#1014"]
