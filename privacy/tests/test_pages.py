"""The staff side: a customer's privacy page, export, and erase with its confirmation step."""

import pytest
from django.core.cache import cache

from accounts.models import AuditLogEntry, Role
from accounts.tests.factories import UserFactory
from integrations.selectors import _cache_key
from privacy.models import PrivacyRequest, RequestKind
from tickets.models import Customer, IdentityKind
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


def test_erasure_drops_the_cached_sidebar_context(
    client, customer, django_capture_on_commit_callbacks
):
    cache.set(_cache_key(customer.pk), {"shopify": "Ada Lovelace"})
    client.force_login(UserFactory(role=Role.ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/{customer.pk}/privacy/erase/", {"confirm": "ERASE"})
    assert cache.get(_cache_key(customer.pk)) is None
