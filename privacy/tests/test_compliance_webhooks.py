"""Shopify's three compliance webhooks, signed, end to end; and the whole-database search after
an erasure (docs/privacy.md)."""

import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from accounts.audit import record_audit
from accounts.models import AuditLogEntry, Role
from accounts.tests.factories import UserFactory
from analytics.models import CustomerSatisfaction
from analytics.services import record_event
from analytics.tests.factories import CustomerSatisfactionFactory
from comms.models import ChannelMessage
from comms.tests.factories import NotificationFactory
from integrations.models import WebhookEvent
from integrations.shopify.views import sign
from knowledge.models import ProductKnowledge
from knowledge.services import import_products, record_suggestion_use
from knowledge.tests.factories import make_product
from privacy.models import PrivacyRequest, RequestKind, RequestStatus
from privacy.services import erase_customer
from tickets.models import Attachment, Customer, IdentityKind, InternalNote, Ticket, TicketMessage
from tickets.tests.factories import (
    AttachmentFactory,
    CustomerFactory,
    CustomerIdentityFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db
SECRET = "shpss_test_secret"
NAME = "Zelda Quartermaine"
EMAIL = "zelda.quartermaine@example.org"
PHONE = "+15556251199"
SHOPIFY_ID = 7_191_167


@pytest.fixture(autouse=True)
def shopify_settings(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET
    settings.SHOPIFY_API_URL = settings.PERP_API_URL = ""


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def send(topic, payload, *, webhook_id, signature=None):
        body = json.dumps(payload).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/webhooks/shopify",
                data=body,
                content_type="application/json",
                HTTP_X_SHOPIFY_TOPIC=topic,
                HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
                HTTP_X_SHOPIFY_HMAC_SHA256=signature or sign(body, SECRET),
                HTTP_X_SHOPIFY_SHOP_DOMAIN="printdesk-demo.myshopify.com",
            )

    return send


def person(**extra):
    return {
        "shop_id": 954889,
        "shop_domain": "printdesk-demo.myshopify.com",
        "customer": {"id": SHOPIFY_ID, "email": EMAIL, "phone": PHONE},
        **extra,
    }


@pytest.fixture
def zelda(tmp_path):
    """A customer whose details are scattered the way real use scatters them."""
    customer = CustomerFactory(
        name=NAME,
        shopify_customer_id=str(SHOPIFY_ID),
        notes=f"Prefers calls on {PHONE}",
        external_data={"shopify": {"data": {"customer": {"email": EMAIL, "name": NAME}}}},
    )
    CustomerIdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value=EMAIL)
    CustomerIdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=PHONE)
    duplicate = CustomerFactory(name="Zelda Q.", merged_into=customer)
    CustomerIdentityFactory(customer=duplicate, kind=IdentityKind.EMAIL, value="zq@example.net")
    ticket = TicketFactory(customer=customer, subject=f"Misprint for {NAME}", status="solved")
    ticket.first_response_at = ticket.created_at
    ticket.save()
    TicketFactory(customer=duplicate, subject="Old order")
    message = TicketMessageFactory(
        ticket=ticket,
        sender=EMAIL,
        body=f"Hi, {NAME} here, call me on {PHONE}",
        body_html=f"<p>{NAME}</p>",
    )
    AttachmentFactory(
        message=message,
        filename="quartermaine-proof.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.4 zelda",
    )
    TicketMessageFactory(ticket=ticket, direction="out", recipient=EMAIL, body="Dear Zelda, sorry!")
    staff = UserFactory(role=Role.AGENT)
    InternalNote.objects.create(ticket=ticket, author=staff, body=f"{NAME} is a VIP")
    CustomerSatisfactionFactory(
        ticket=ticket, rating=2, comment=f"— {NAME}", answered_at=timezone.now()
    )
    record_event(name="customer.noted", ticket=ticket, properties={"email": EMAIL, "n": 3})
    import_products(products=[make_product(title="Vinyl Banner")])
    record_suggestion_use(
        product=ProductKnowledge.objects.get(),
        question=f"{NAME} needs a banner, mail {EMAIL}",
        ticket=ticket,
        user=staff,
    )
    NotificationFactory(recipient=staff, title=f"New ticket from {NAME}", body=EMAIL)
    record_audit(action="admin.change", actor=staff, target=customer)
    WebhookEvent.objects.create(
        provider="shopify",
        kind="orders/create",
        event_id="old-order",
        raw_body=json.dumps({"email": EMAIL}).encode(),
        payload={"email": EMAIL, "customer": {"first_name": "Zelda"}},
    )
    return customer


def _as_text(cursor, table: str, column: str) -> str:
    """The column as searchable text; raw bytes as their printable characters."""
    quoted = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = %s",
            [table, column],
        )
        if cursor.fetchone()[0] == "bytea":
            return f"encode({quoted}, 'escape')"
    return f"CAST({quoted} AS TEXT)"


def find_everywhere(*values: str) -> list[str]:
    """Every `table.column: value` of the whole database whose text holds one of `values`,
    case-insensitively: each column of each table, cast to text, one query per table."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            probes = [(name, value) for name in columns for value in values]
            texts = {name: _as_text(cursor, table, name) for name in columns}
            sums = ", ".join(
                f"SUM(CASE WHEN LOWER({texts[name]}) LIKE %s THEN 1 ELSE 0 END)"
                for name, _ in probes
            )
            cursor.execute(
                f"SELECT {sums} FROM {connection.ops.quote_name(table)}",
                [f"%{v.lower()}%" for _, v in probes],
            )
            counts = cursor.fetchone()
            hits += [f"{table}.{n}: {v}" for (n, v), c in zip(probes, counts, strict=True) if c]
    return hits


def test_customers_redact_leaves_nothing_personal_in_any_table(post, zelda):
    assert find_everywhere(EMAIL)  # the search finds what is there
    export = post("customers/data_request", person(data_request={"id": 9999}), webhook_id="d-1")
    assert export.status_code == 200
    archive = PrivacyRequest.objects.get(kind=RequestKind.EXPORT).archive.name
    stored = Attachment.objects.get().storage_key
    assert default_storage.exists(stored)

    response = post("customers/redact", person(orders_to_redact=[299938]), webhook_id="r-1")

    assert response.status_code == 200
    erase = PrivacyRequest.objects.get(kind=RequestKind.ERASE)
    assert erase.status == RequestStatus.COMPLETED
    assert erase.summary["tickets"] == 2 and erase.summary["messages"] == 2
    assert find_everywhere(EMAIL, PHONE[1:], NAME, "Quartermaine", "zq@example.net") == []
    assert not default_storage.exists(archive)
    assert not default_storage.exists(stored)


def test_erasure_keeps_the_aggregates_reports_read(post, zelda):
    ticket = Ticket.objects.get(customer=zelda)
    post("customers/redact", person(), webhook_id="r-1")

    ticket.refresh_from_db()
    assert Ticket.objects.filter(customer=zelda).count() == 1
    assert ticket.status == "solved" and ticket.first_response_at is not None
    assert TicketMessage.objects.filter(ticket=ticket).count() == 2
    assert CustomerSatisfaction.objects.get(ticket=ticket).rating == 2
    zelda.refresh_from_db()
    assert zelda.erased_at is not None and zelda.identities.count() == 0
    assert AuditLogEntry.objects.filter(action="privacy.customer_erased").count() == 1


def test_redaction_is_idempotent(post, zelda):
    post("customers/redact", person(), webhook_id="r-1")
    post("customers/redact", person(), webhook_id="r-1")  # a replay changes nothing
    assert PrivacyRequest.objects.filter(kind=RequestKind.ERASE).count() == 1

    post("customers/redact", person(), webhook_id="r-2")  # nobody matches any more

    second = PrivacyRequest.objects.filter(kind=RequestKind.ERASE).first()
    assert second.customer is None
    assert second.summary["webhooks"] == 1  # only the new delivery itself named them
    again = erase_customer(customer=zelda, actor=None)
    assert again.summary["messages"] == 0 and again.summary["analytics_rows"] == 0
    assert find_everywhere(EMAIL) == []


def test_redact_for_an_unknown_customer_still_masks_stored_webhooks(post):
    WebhookEvent.objects.create(
        provider="shopify", kind="orders/create", event_id="o-1", payload={"email": EMAIL}
    )
    post("customers/redact", person(), webhook_id="r-1")

    erase = PrivacyRequest.objects.get(kind=RequestKind.ERASE)
    assert erase.customer is None and erase.summary["webhooks"] == 2
    assert find_everywhere(EMAIL) == []


def test_data_request_builds_an_archive_admins_download(post, zelda, client):
    post("customers/data_request", person(data_request={"id": 9999}), webhook_id="d-1")

    request = PrivacyRequest.objects.get(kind=RequestKind.EXPORT)
    assert request.customer == zelda and request.shopify_request_id == "9999"
    assert AuditLogEntry.objects.filter(action="privacy.export_created").count() == 1
    notice = ChannelMessage.objects.get(channel__slug="managers")
    assert f"/privacy/requests/{request.pk}/" in notice.body and NAME not in notice.body

    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.get(f"/privacy/requests/{request.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        data = json.loads(archive.read("customer.json"))
    assert data["profile"]["name"] == NAME
    assert {i["value"] for i in data["identities"]} == {EMAIL, PHONE, "zq@example.net"}
    assert len(data["tickets"]) == 2
    messages = data["tickets"][0]["messages"]
    (attachment,) = messages[0]["attachments"]
    assert attachment["filename"] == "quartermaine-proof.pdf" and attachment["size"] == 14
    assert data["csat"][0]["rating"] == 2


@pytest.mark.parametrize("role,status", [(Role.AGENT, 403), (Role.VIEWER, 403)])
def test_archive_download_needs_the_export_permission(post, zelda, client, role, status):
    post("customers/data_request", person(data_request={"id": 1}), webhook_id="d-1")
    request = PrivacyRequest.objects.get()
    client.force_login(UserFactory(role=role))
    assert client.get(f"/privacy/requests/{request.pk}/download/").status_code == status


def test_archive_download_needs_a_login(post, zelda, client):
    post("customers/data_request", person(data_request={"id": 1}), webhook_id="d-1")
    response = client.get(f"/privacy/requests/{PrivacyRequest.objects.get().pk}/download/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_data_request_for_someone_unknown_records_that_nothing_is_held(post):
    post("customers/data_request", person(data_request={"id": 5}), webhook_id="d-1")
    request = PrivacyRequest.objects.get()
    assert request.customer is None and not request.archive
    assert request.summary == {"matched": False}


def test_a_badly_signed_compliance_webhook_is_refused_and_changes_nothing(post, zelda):
    response = post("customers/redact", person(), webhook_id="r-1", signature="bad")
    assert response.status_code == 401
    assert not PrivacyRequest.objects.exists()
    assert Customer.objects.get(pk=zelda.pk).name == NAME


def test_shop_redact_forgets_what_came_from_shopify_and_keeps_tickets(post, zelda):
    post("shop/redact", {"shop_id": 954889, "shop_domain": "x.myshopify.com"}, webhook_id="s-1")

    zelda.refresh_from_db()
    assert zelda.shopify_customer_id == "" and "shopify" not in zelda.external_data
    assert zelda.name == NAME and Ticket.objects.filter(customer=zelda).exists()
    assert WebhookEvent.objects.get(event_id="old-order").payload == {"erased": True}
    request = PrivacyRequest.objects.get(kind=RequestKind.SHOP_REDACT)
    assert request.summary["customers_unlinked"] == 1
