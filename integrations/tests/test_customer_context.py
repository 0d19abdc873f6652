import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from integrations.selectors import (
    find_order_numbers,
    get_customer_context,
    get_order_detail,
    invalidate_customer_context,
    list_ticket_order_numbers,
)
from tickets.models import Customer, IdentityKind
from tickets.services import link_customer_account
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


def test_context_matches_by_email_and_stores_ids(providers, demo_customer):
    context = get_customer_context(customer=demo_customer)
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
    context = get_customer_context(customer=customer)
    assert context.shopify.customer.id == 6_000_000_007
    assert context.perp.customer.id == "CUST-00007"


def test_context_is_cached_until_refresh(providers, demo_customer):
    shopify, perp = providers
    get_customer_context(customer=demo_customer)
    calls = len(shopify.requests) + len(perp.requests)
    cached = get_customer_context(customer=demo_customer)
    assert cached.is_cached and cached.shopify.orders[0].name == "#1015"
    assert len(shopify.requests) + len(perp.requests) == calls
    fresh = get_customer_context(customer=demo_customer, refresh=True)
    assert not fresh.is_cached and len(shopify.requests) + len(perp.requests) > calls


def test_provider_down_shows_error_with_last_good_data(providers, demo_customer, sleeps):
    _shopify, perp = providers
    get_customer_context(customer=demo_customer)
    perp.is_down = True
    context = get_customer_context(customer=demo_customer, refresh=True)
    assert context.shopify_state.status == "ok"
    assert context.perp_state.status == "error" and context.perp_state.error_code == "unavailable"
    assert context.perp_state.is_stale and context.perp_state.fetched_at is not None
    assert context.perp.wallet.tier == "Platinum"  # the stored snapshot
    assert set(context.errors) == {"perp"}
    assert sleeps == [0.25]  # the sidebar fails fast: one retry, then cached data


def test_provider_down_without_earlier_data(fake_shopify, settings, demo_customer):
    settings.PERP_API_URL = "http://127.0.0.1:9"  # nothing listens there
    context = get_customer_context(customer=demo_customer)
    assert context.perp_state.status == "error" and not context.perp_state.is_stale
    assert context.perp is None and context.shopify_state.status == "ok"


def test_not_configured_and_not_linked(fake_shopify, settings):
    settings.PERP_API_URL = ""
    stranger = CustomerFactory()
    CustomerIdentityFactory(customer=stranger, value="stranger@example.com")
    context = get_customer_context(customer=stranger)
    assert context.perp_state.status == "not_configured"
    assert context.shopify_state.status == "not_linked" and context.shopify is None


def test_manual_unlink_stops_auto_matching(providers, demo_customer):
    get_customer_context(customer=demo_customer)
    agent = UserFactory(role=Role.AGENT)
    link_customer_account(
        customer=demo_customer, provider="shopify", external_id="", actor=agent, is_manual=True
    )
    invalidate_customer_context(customer_id=demo_customer.pk)
    customer = Customer.objects.get(pk=demo_customer.pk)
    context = get_customer_context(customer=customer)
    assert context.shopify_state.status == "not_linked"
    customer.refresh_from_db()
    assert customer.shopify_customer_id == "" and "shopify" not in customer.external_data
    link_customer_account(
        customer=customer, provider="shopify", external_id="6000000009", actor=agent, is_manual=True
    )
    context = get_customer_context(customer=Customer.objects.get(pk=customer.pk), refresh=True)
    assert context.shopify.customer.name == "Demo Customer 9"


def test_viewer_cannot_link(demo_customer):
    viewer = UserFactory(role=Role.VIEWER)
    with pytest.raises(Exception, match="permission"):
        link_customer_account(
            customer=demo_customer, provider="perp", external_id="X", actor=viewer, is_manual=True
        )


def test_order_detail_by_either_number(providers, demo_customer):
    by_name = get_order_detail(customer=demo_customer, number="#1013")
    assert by_name.shopify.name == "#1013" and by_name.perp.order.number == "PD-ORD-10013"
    assert by_name.invoices[0].number == "INV-1013"
    by_perp = get_order_detail(customer=demo_customer, number="PD-ORD-10014")
    assert by_perp.perp.production is not None and by_perp.shopify.name == "#1014"
    missing = get_order_detail(customer=demo_customer, number="#999999")
    assert missing.shopify is None and missing.perp is None and not missing.errors


def test_find_order_numbers():
    text = "Re #1001 and PD-ORD-10042, also #1001 again; not &#39; or #12 or abc#1234"
    assert find_order_numbers(text) == ["#1001", "PD-ORD-10042"]


def test_ticket_mentions(providers, demo_customer):
    ticket = TicketFactory(customer=demo_customer, subject="Where is my order #1014?")
    assert list_ticket_order_numbers(ticket=ticket) == ["#1014"]
