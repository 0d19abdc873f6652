"""The staff side: a customer's privacy page, export, and erase with its confirmation step."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditLogEntry, Role
from accounts.tests.factories import UserFactory
from integrations.records import to_jsonable
from integrations.selectors import get_customer_context
from integrations.shopify.types import ShopifyCustomer
from privacy.models import PrivacyRequest, RequestKind
from tickets.models import Customer, IdentityKind
from tickets.services import link_customer_account
from tickets.tests.factories import CustomerIdentityFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="ada@example.org")
    TicketMessageFactory(ticket__customer=identity.customer, body="Hello from Ada")
    return identity.customer


def test_erase_shows_what_changes_and_needs_the_typed_word(client, customer):
    client.force_login(UserFactory(role=Role.ADMIN))
    url = f"/customers/{customer.pk}/privacy/erase/"

    page = client.get(url)
    assert page.status_code == 200
    assert b"1 identity" in page.content and b"1 message" in page.content

    refused = client.post(url, {"confirm": "erase"})
    assert refused.status_code == 200 and b"Type ERASE exactly" in refused.content
    assert Customer.objects.get(pk=customer.pk).erased_at is None

    done = client.post(url, {"confirm": "ERASE"})
    request = PrivacyRequest.objects.get(kind=RequestKind.ERASE)
    assert done.status_code == 302 and done["Location"] == f"/privacy/requests/{request.pk}/"
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.name == f"Erased customer {customer.pk}"
    entry = AuditLogEntry.objects.get(action="privacy.customer_erased")
    assert entry.details["customer_id"] == customer.pk and entry.details["messages"] == 1


def test_export_from_the_customer_page_then_download(client, customer):
    manager = UserFactory(role=Role.MANAGER)
    client.force_login(manager)
    response = client.post(f"/customers/{customer.pk}/privacy/export/")
    request = PrivacyRequest.objects.get()
    assert response["Location"] == f"/privacy/requests/{request.pk}/"
    assert request.requested_by == manager and request.archive
    detail = client.get(response["Location"])
    assert f"/privacy/requests/{request.pk}/download/".encode() in detail.content
    assert AuditLogEntry.objects.filter(action="privacy.export_created", actor=manager).exists()


def test_an_erased_customer_cannot_be_exported(client, customer):
    client.force_login(UserFactory(role=Role.ADMIN))
    client.post(f"/customers/{customer.pk}/privacy/erase/", {"confirm": "ERASE"})
    response = client.post(f"/customers/{customer.pk}/privacy/export/")
    assert response.status_code == 409
    assert not PrivacyRequest.objects.filter(kind=RequestKind.EXPORT).exists()


@pytest.mark.parametrize("role,visible", [(Role.MANAGER, True), (Role.AGENT, False)])
def test_customer_page_links_privacy_only_for_those_allowed(client, customer, role, visible):
    client.force_login(UserFactory(role=role))
    page = client.get(f"/customers/{customer.pk}/")
    assert (f"/customers/{customer.pk}/privacy/".encode() in page.content) is visible


def test_erasure_leaves_the_sidebar_context_nothing_to_show(client, customer, settings):
    settings.SHOPIFY_API_URL = "http://127.0.0.1:9/admin/api/2025-04/graphql.json"
    snapshot = {
        "fetched_at": timezone.now().isoformat(),
        "data": {
            "customer": to_jsonable(
                ShopifyCustomer(
                    id=6000000001,
                    name="Ada Lovelace",
                    email="ada@example.org",
                    phone="",
                    orders_count=1,
                    amount_spent=Decimal("10.00"),
                    currency="GBP",
                    created_at=None,
                )
            )
        },
    }
    link_customer_account(
        customer=customer, provider="shopify", external_id="6000000001", snapshot=snapshot
    )
    stored = get_customer_context(customer=Customer.objects.get(pk=customer.pk))
    assert stored.shopify.customer.name == "Ada Lovelace"
    client.force_login(UserFactory(role=Role.ADMIN))
    client.post(f"/customers/{customer.pk}/privacy/erase/", {"confirm": "ERASE"})
    context = get_customer_context(customer=Customer.objects.get(pk=customer.pk))
    assert context.shopify is None and context.shopify_state.status == "not_fetched"
