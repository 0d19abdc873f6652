from decimal import Decimal

import pytest
import requests

from integrations.perp.client import (
    PerpAuthFailed,
    PerpBadResponse,
    PerpClient,
    PerpNotConfigured,
    PerpNotFound,
    PerpUnavailable,
)


@pytest.fixture
def client(fake_perp, retry):
    return PerpClient(base_url=fake_perp.url, api_key=fake_perp.api_key, retry=retry)


def test_customer_search_and_get(client, fake_perp):
    found = client.search_customer_by_email("demo.customer.4@example.com")
    assert found.id == "CUST-00004" and found.name == "Demo Customer 4"
    assert client.search_customer_by_phone("+447700900004").id == "CUST-00004"
    assert client.search_customer_by_email("nobody@example.com") is None
    assert client.get_customer("CUST-00004").email == "demo.customer.4@example.com"
    assert fake_perp.requests[0]["headers"]["Authorization"] == "Bearer perp_test"
    assert fake_perp.requests[0]["query"] == {"email": "demo.customer.4@example.com"}


def test_wallet_is_typed(client):
    wallet = client.get_vip_wallet("CUST-00004")
    assert wallet.tier == "Gold" and wallet.currency == "USD"
    assert wallet.balance == Decimal("148.50")
    assert wallet.recent_transactions[0].amount == Decimal("-15.00")


def test_orders_pagination_and_search(client):
    page = client.get_customer_orders("CUST-00005", limit=2, offset=0)
    assert page.count == 3 and len(page.results) == 2
    assert [o.number for o in page.results] == ["PD-ORD-10015", "PD-ORD-10014"]
    rest = client.get_customer_orders("CUST-00005", limit=2, offset=2)
    assert [o.number for o in rest.results] == ["PD-ORD-10013"]
    order = client.search_order_by_number("PD-ORD-10013")
    assert order.shopify_order_name == "#1013" and order.total > 0
    assert client.get_order(order.id).number == "PD-ORD-10013"
    assert client.search_order_by_number("PD-ORD-99999") is None


def test_production_artwork_and_proofs(client):
    status = client.get_production_status("ord_1015")
    assert status.jobs and status.jobs[0].stage in {"prepress", "printing", "finishing", "packing"}
    artwork = client.get_order_artwork("ord_1015")
    assert artwork[0].thumbnail_url.endswith(f"/artwork/{artwork[0].id}/thumbnail.svg")
    assert client.get_artwork(artwork[0].id).file_name == artwork[0].file_name
    approved = client.approve_proof(artwork[0].id, approved_by="ana", note="ok")
    assert approved.proof_status == "approved"
    rejected = client.reject_proof(artwork[0].id, rejected_by="ana", reason="Logo too small")
    assert rejected.proof_status == "changes_requested" and rejected.note == "Logo too small"


def test_invoices(client):
    page = client.get_customer_invoices("CUST-00004", limit=10)
    assert page.count == 2
    overdue = page.results[0]
    assert overdue.status == "overdue" and overdue.amount_due == overdue.total
    paid = page.results[1]
    assert paid.is_paid and paid.amount_due == 0 and paid.paid_at is not None
    assert client.search_invoice_by_number(paid.number).id == paid.id
    assert client.get_invoice(paid.id).number == paid.number


def test_not_found_and_auth_errors(client, fake_perp):
    with pytest.raises(PerpNotFound):
        client.get_customer("CUST-99999")
    bad = PerpClient(base_url=fake_perp.url, api_key="wrong", retry=client.retry)
    with pytest.raises(PerpAuthFailed):
        bad.get_customer("CUST-00001")


def test_retries_5xx_with_backoff_then_succeeds(client, fake_perp, sleeps):
    fake_perp.fail_next(2, status=502)
    assert client.get_customer("CUST-00001").id == "CUST-00001"
    assert len(fake_perp.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_gives_up_as_unavailable_after_retries(client, fake_perp, sleeps):
    fake_perp.is_down = True
    with pytest.raises(PerpUnavailable):
        client.get_customer("CUST-00001")
    assert len(fake_perp.requests) == 3


def test_4xx_is_not_retried(client, fake_perp, sleeps):
    fake_perp.fail_next(1, status=422)
    with pytest.raises(PerpBadResponse):
        client.get_customer("CUST-00001")
    assert len(fake_perp.requests) == 1 and sleeps == []


def test_post_is_not_retried(client, fake_perp):
    fake_perp.fail_next(1, status=503)
    with pytest.raises(PerpUnavailable):
        client.approve_proof("art_1015_1", approved_by="ana")
    assert len(fake_perp.requests) == 1


def test_timeout_and_refused_connection_are_unavailable(retry, monkeypatch, sleeps):
    client = PerpClient(base_url="http://127.0.0.1:9", api_key="k", retry=retry)

    def timeout(*args, **kwargs):
        raise requests.Timeout("read timed out")

    with pytest.raises(PerpUnavailable):
        client.get_customer("CUST-00001")  # nothing listens on port 9
    monkeypatch.setattr(client.session, "get", timeout)
    with pytest.raises(PerpUnavailable, match="timed out"):
        client.get_customer("CUST-00001")
    assert len(sleeps) == 4


def test_bad_payload_is_bad_response(client, fake_perp, monkeypatch):
    monkeypatch.setattr(
        "integrations.fakes.demo_data.perp_customer", lambda n: {"id": "CUST-1", "name": "x"}
    )
    with pytest.raises(PerpBadResponse, match="missing 'email'"):
        client.get_customer("CUST-00001")


def test_test_connection(client, fake_perp):
    assert client.test_connection().ok
    fake_perp.is_down = True
    result = client.test_connection()
    assert not result.ok and "unavailable" in result.detail


def test_not_configured(settings):
    settings.PERP_API_URL = ""
    assert not PerpClient.is_configured()
    with pytest.raises(PerpNotConfigured):
        PerpClient.from_settings()
