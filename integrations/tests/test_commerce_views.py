import re
from urllib.parse import urlsplit

import pytest
from django.template import Context, Template

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.models import IdentityKind
from tickets.tests.factories import CustomerFactory, CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_customer():
    customer = CustomerFactory(name="Demo Customer 4")
    CustomerIdentityFactory(
        customer=customer, kind=IdentityKind.EMAIL, value="demo.customer.4@example.com"
    )
    return customer


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(role=Role.AGENT))
    return client


@pytest.fixture
def polled(django_capture_on_commit_callbacks):
    """The sidebar as its poll shows it: the first view finds nothing stored and requests the
    refresh (the test task backend runs it on commit), the next one shows what it stored."""

    def get(client, url: str):
        with django_capture_on_commit_callbacks(execute=True):
            first = client.get(url)
        assert first.status_code == 200 and "refreshing…" in first.content.decode()
        return client.get(url)

    return get


def test_sidebar_shows_orders_production_artwork_invoices_wallet(
    polled, agent_client, fake_shopify, fake_perp, demo_customer
):
    ticket = TicketFactory(customer=demo_customer, subject="Where is #1011?")
    url = f"/customers/{demo_customer.pk}/context/?ticket={ticket.reference}"
    response = polled(agent_client, url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "refreshing…" not in html and "load delay:2s" not in html
    for expected in (
        "#1011",
        "PD-ORD-10011",
        "Gold VIP",
        # Artwork thumbnails come through our origin's image proxy, never from the PERP host.
        '<img src="/media-proxy/',
        "proof: ",
        "INV-1011",
        "overdue",
        "UPS",
        f"Mentioned in {ticket.reference}",
        'id="customer-order-detail"',
    ):
        assert expected in html, expected


def test_sidebar_renders_inline_error_when_perp_down(
    polled, agent_client, fake_shopify, fake_perp, demo_customer, django_capture_on_commit_callbacks
):
    url = f"/customers/{demo_customer.pk}/context/"
    polled(agent_client, url)
    fake_perp.is_down = True
    with django_capture_on_commit_callbacks(execute=True):
        refreshing = agent_client.post(
            f"/customers/{demo_customer.pk}/context/refresh/", HTTP_HX_REQUEST="true"
        )
    assert refreshing.status_code == 200 and "refreshing…" in refreshing.content.decode()
    response = agent_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "PERP is unavailable" in html and "Showing data fetched just now" in html
    assert "#1011" in html  # Shopify still fine


def test_sidebar_with_both_providers_unreachable(
    polled, agent_client, settings, demo_customer, no_sleep
):
    settings.SHOPIFY_API_URL = "http://127.0.0.1:9/admin/api/2025-07/graphql.json"
    settings.PERP_API_URL = "http://127.0.0.1:9"
    settings.PERP_API_KEY = "x"
    response = polled(agent_client, f"/customers/{demo_customer.pk}/context/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shopify is unavailable" in html and "PERP is unavailable" in html


def test_sidebar_not_configured(agent_client, settings, demo_customer):
    settings.SHOPIFY_API_URL = settings.PERP_API_URL = ""
    html = agent_client.get(f"/customers/{demo_customer.pk}/context/").content.decode()
    assert "Shopify is not configured" in html and "PERP is not configured" in html


def test_sidebar_permissions(client, demo_customer, settings):
    settings.SHOPIFY_API_URL = settings.PERP_API_URL = ""
    url = f"/customers/{demo_customer.pk}/context/"
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(role=Role.VIEWER))
    assert client.get(url).status_code == 200
    assert client.get("/customers/999999/context/").status_code == 404


def test_order_partial_and_page(agent_client, fake_shopify, fake_perp, demo_customer):
    url = f"/customers/{demo_customer.pk}/context/order/?number=PD-ORD-10010"
    partial = agent_client.get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "Order PD-ORD-10010" in partial.content.decode()
    page = agent_client.get(url)
    assert "<html" in page.content.decode() and "#1010" in page.content.decode()
    fake_perp.is_down = True
    down = agent_client.get(url, HTTP_HX_REQUEST="true")
    assert down.status_code == 200 and "Perp is unavailable" in down.content.decode()


def test_manual_link_and_unlink(
    agent_client, fake_shopify, fake_perp, demo_customer, django_capture_on_commit_callbacks
):
    url = f"/customers/{demo_customer.pk}/context/link/"
    response = agent_client.post(url, {"provider": "perp", "external_id": "CUST-00008"})
    assert response.status_code == 302
    demo_customer.refresh_from_db()
    assert demo_customer.perp_customer_id == "CUST-00008"
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url, {"provider": "perp", "external_id": ""}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200 and "refreshing…" in response.content.decode()
    response = agent_client.get(f"/customers/{demo_customer.pk}/context/")
    assert "No PERP customer matches" in response.content.decode()
    bad = agent_client.post(url, {"provider": "nope", "external_id": "1"})
    assert bad.status_code == 400


def test_viewer_cannot_link(client, demo_customer):
    client.force_login(UserFactory(role=Role.VIEWER))
    url = f"/customers/{demo_customer.pk}/context/link/"
    assert client.post(url, {"provider": "perp", "external_id": "X"}).status_code == 403


def test_api_returns_same_data(
    agent_client, fake_shopify, fake_perp, demo_customer, django_capture_on_commit_callbacks
):
    url = f"/api/customers/{demo_customer.pk}/context/"
    with django_capture_on_commit_callbacks(execute=True):
        first = agent_client.get(url).json()
    assert first["is_refreshing"] and first["shopify_state"]["status"] == "not_fetched"
    response = agent_client.get(url)
    assert response.status_code == 200
    data = response.json()
    assert not data["is_refreshing"] and not data["is_stale"] and data["checked_at"]
    assert data["shopify"]["orders"][0]["name"] == "#1011"
    assert data["perp"]["wallet"]["balance"] == "148.50"
    assert data["perp_state"]["status"] == "ok" and data["errors"] == {}
    fake_perp.is_down = True
    with django_capture_on_commit_callbacks(execute=True):
        assert agent_client.get(f"{url}?refresh=1").json()["is_refreshing"]
    data = agent_client.get(url).json()
    assert data["errors"]["perp"] and data["perp"]["wallet"]["tier"] == "Gold"
    assert data["perp_state"]["is_fallback"]


def test_api_permissions(client, demo_customer):
    assert client.get(f"/api/customers/{demo_customer.pk}/context/").status_code in (401, 403)
    client.force_login(UserFactory(role=Role.AGENT))
    response = client.get("/api/customers/999999/context/")
    assert response.status_code == 404 and response.json()["code"] == "customer_not_found"


def test_link_order_numbers_filter_escapes_then_links():
    template = Template("{% load commerce %}{{ text|link_order_numbers:cid }}")
    html = template.render(Context({"text": "<b>Order</b> #1001 & PD-ORD-10042 ok", "cid": 7}))
    assert "&lt;b&gt;Order&lt;/b&gt;" in html and "&amp;" in html
    assert 'href="/customers/7/context/order/?number=%231001"' in html
    assert 'hx-get="/customers/7/context/order/?number=PD-ORD-10042"' in html
    assert (
        Template("{% load commerce %}{{ t|link_order_numbers:None }}").render(
            Context({"t": "#1001 <i>"})
        )
        == "#1001 &lt;i&gt;"
    )


def test_age_filter():
    from datetime import timedelta

    from django.utils import timezone

    from integrations.templatetags.commerce import age

    assert age(timezone.now()) == "just now"
    assert age(timezone.now() - timedelta(minutes=5)) == "5\xa0minutes ago"
    assert age(None) == "at an unknown time"


def test_provider_links_must_be_http(
    polled, agent_client, fake_shopify, fake_perp, demo_customer, monkeypatch
):
    from integrations.fakes import demo_data

    original = demo_data.perp_artwork_list

    def hostile(number, base_url):
        return [{**a, "file_url": "javascript:alert(1)"} for a in original(number, base_url)]

    monkeypatch.setattr("integrations.fakes.demo_data.perp_artwork_list", hostile)
    html = polled(agent_client, f"/customers/{demo_customer.pk}/context/").content.decode()
    assert "javascript:" not in html and '<img src="/media-proxy/' in html


def test_artwork_thumbnails_load_through_our_origin(
    polled, agent_client, fake_shopify, fake_perp, demo_customer, settings
):
    """PERP serves its thumbnails over plain http on its own host, which the CSP would block."""
    settings.MEDIA_PROXY_PRIVATE_HOSTS = [urlsplit(fake_perp.url).netloc]
    html = polled(agent_client, f"/customers/{demo_customer.pk}/context/").content.decode()
    thumbnail = re.search(r'<img src="(/media-proxy/[^"]+)" alt="Artwork', html).group(1)
    response = agent_client.get(thumbnail)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content and b"No preview" not in response.content
