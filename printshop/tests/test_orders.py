"""Order references on inbound messages: linking, cross-channel threading, the order API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.inbound import InboundMessage, receive_message
from printshop import services
from printshop.models import OrderSource, TicketOrder
from tickets.models import IdentityKind, TicketStatus
from tickets.selectors import InboxFilters, InboxView, list_inbox
from tickets.services import open_ticket
from tickets.tests.factories import CustomerFactory, CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db

EMAIL = "jo@example.com"
PHONE = "+447700900123"


@pytest.fixture
def customer():
    customer = CustomerFactory(name="Jo")
    CustomerIdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value=EMAIL)
    CustomerIdentityFactory(customer=customer, kind=IdentityKind.WHATSAPP, value=PHONE)
    return customer


def email(body: str, *, mid: str, subject: str = "Question", sender: str = EMAIL):
    return receive_message(
        inbound=InboundMessage(
            channel="email",
            identity_kind="email",
            identity_value=sender,
            subject=subject,
            body=body,
            provider="sendgrid",
            provider_message_id=mid,
            email_message_id=f"<{mid}@example.com>",
        )
    )


def whatsapp(body: str, *, mid: str, sender: str = PHONE):
    return receive_message(
        inbound=InboundMessage(
            channel="whatsapp",
            identity_kind="whatsapp",
            identity_value=sender,
            body=body,
            provider="twilio",
            provider_message_id=mid,
        )
    )


def linked(ticket) -> list[tuple[str, str]]:
    return list(ticket.orders.values_list("number", "source"))


def test_order_references_in_subject_and_body_are_linked(customer):
    message = email("Also job 4411 please.", mid="m1", subject="Order #1001 and PD-ORD-10042")
    assert linked(message.ticket) == [
        ("#1001", OrderSource.SHOPIFY),
        ("PD-ORD-10042", OrderSource.PERP),
        ("JOB-4411", OrderSource.PERP),
    ]
    assert all(link.linked_by is None for link in message.ticket.orders.all())


def test_order_numbers_in_a_staff_opened_subject_are_linked_and_filterable(customer, client):
    manager = UserFactory(role=Role.MANAGER)
    ticket = open_ticket(
        customer=customer, channel="email", subject="Invoice for order #1088", opened_by=manager
    )
    assert linked(ticket) == [("#1088", OrderSource.SHOPIFY)]
    client.force_login(manager)
    html = client.get("/tickets/", {"view": "all", "order": "#1088"}).content.decode()
    assert f'id="ticket-row-{ticket.reference}"' in html


def test_a_message_naming_a_linked_order_threads_across_channels(customer):
    first = email("Where is PD-ORD-10042?", mid="m1")
    second = whatsapp("Hi, any news on pd-ord-10042?", mid="w1")
    assert second.ticket == first.ticket
    assert second.channel == "whatsapp"
    assert TicketOrder.objects.filter(number="PD-ORD-10042").count() == 1


def test_threading_by_order_beats_the_messaging_window(customer):
    other = whatsapp("Do you print banners?", mid="w1").ticket
    about_order = email("Status of #1001?", mid="m1").ticket
    assert about_order != other
    assert whatsapp("Any news on #1001?", mid="w2").ticket == about_order
    assert whatsapp("And banners?", mid="w3").ticket == other


def test_without_an_order_reference_the_channel_rules_apply(customer):
    first = email("Where is PD-ORD-10042?", mid="m1")
    assert whatsapp("Hello", mid="w1").ticket != first.ticket


def test_solved_tickets_do_not_attract_order_messages(customer):
    first = email("Where is PD-ORD-10042?", mid="m1").ticket
    first.status = TicketStatus.SOLVED
    first.save(update_fields=["status"])
    assert whatsapp("PD-ORD-10042 again", mid="w1").ticket != first


def test_another_customers_order_does_not_thread(customer):
    first = email("Where is PD-ORD-10042?", mid="m1").ticket
    stranger = whatsapp("I have PD-ORD-10042 too", mid="w1", sender="+447700900999").ticket
    assert stranger != first and stranger.customer != customer


def test_threading_by_order_can_be_turned_off(customer, settings):
    settings.PRINTSHOP_THREAD_BY_ORDER = False
    first = email("Where is PD-ORD-10042?", mid="m1").ticket
    second = whatsapp("Any news on PD-ORD-10042?", mid="w1").ticket
    assert second != first
    assert linked(second) == [("PD-ORD-10042", OrderSource.PERP)]


def test_email_reply_headers_still_win_over_orders(customer):
    first = email("Where is PD-ORD-10042?", mid="m1").ticket
    other = email("New question about #1001", mid="m2").ticket
    assert other != first
    reply = receive_message(
        inbound=InboundMessage(
            channel="email",
            identity_kind="email",
            identity_value=EMAIL,
            subject="Re: New question",
            body="And PD-ORD-10042?",
            provider="sendgrid",
            provider_message_id="m3",
            in_reply_to="<m2@example.com>",
        )
    )
    assert reply.ticket == other


def test_staff_link_an_order_by_hand():
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    link = services.link_order_by_number(ticket=ticket, actor=agent, number=" #1001 ")
    assert (link.number, link.source, link.linked_by) == ("#1001", "shopify", agent)
    assert services.link_order_by_number(ticket=ticket, actor=agent, number="#1001") == link
    with pytest.raises(Exception) as exc:
        services.link_order_by_number(ticket=ticket, actor=agent, number="hello")
    assert exc.value.code == "invalid_order_number"


def test_api_lists_tickets_for_an_order(customer):
    ticket = email("Where is #1001?", mid="m1").ticket
    TicketFactory()  # unrelated
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.VIEWER))
    for path in ("/api/orders/%231001/tickets/", "/api/orders/1001/tickets/"):
        response = client.get(path)
        assert response.status_code == 200, response.content
        assert [t["reference"] for t in response.json()] == [ticket.reference]
    assert client.get("/api/orders/PD-ORD-99999/tickets/").json() == []
    anonymous = APIClient().get("/api/orders/1001/tickets/")
    assert anonymous.status_code == 401


def test_api_lists_a_tickets_orders_and_proofs(customer):
    ticket = email("Where is #1001?", mid="m1").ticket
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.AGENT))
    response = client.get(f"/api/tickets/{ticket.reference}/proofs/")
    assert response.status_code == 200
    assert response.json()["orders"][0]["number"] == "#1001"
    assert response.json()["proofs"] == []
    assert client.get("/api/tickets/PD-0/proofs/").status_code == 404


def test_inbox_search_for_an_order_number_lists_the_tickets_linked_to_it(customer):
    about_order = email("Where is my order #10234?", mid="m1").ticket
    perp = email("Proof for PD-ORD-20042 please", mid="m2", sender="al@example.com").ticket
    # Names a longer number, and the order only in an outbound-looking subject: not linked.
    TicketFactory(status=TicketStatus.OPEN, subject="Reorder of #102345")
    TicketFactory(status=TicketStatus.OPEN, subject="Our note: #10234 ships Friday")
    agent = UserFactory(role=Role.AGENT)

    def found(q: str) -> list:
        return list_inbox(user=agent, filters=InboxFilters(view=InboxView.ALL, q=q)).tickets

    assert found("#10234") == [about_order]
    assert found(" pd-ord-20042 ") == [perp]
    assert found("#99999") == []
    # Text around the number is a free-text search again (subjects, bodies, names).
    assert {t.reference for t in found("order #10234")} == {about_order.reference}


def test_inbox_order_search_reads_the_order_index_not_the_messages(customer, client):
    email("Where is my order #10234?", mid="m1")
    client.force_login(UserFactory(role=Role.AGENT))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/tickets/?view=all&q=%2310234").status_code == 200
    listing = [q["sql"] for q in queries.captured_queries if "printshop_ticketorder" in q["sql"]]
    assert len(listing) == 1
    # No substring match (`LIKE`) over bodies, subjects or names: only the number's index.
    assert "LIKE" not in listing[0].upper()


def test_inbox_filters_by_order_number(customer, client):
    about_order = email("Where is PD-ORD-10042?", mid="m1").ticket
    TicketFactory(status=TicketStatus.OPEN, subject="Something else")
    agent = UserFactory(role=Role.AGENT)
    filters = InboxFilters(view=InboxView.ALL, order="pd-ord-10042")
    assert list_inbox(user=agent, filters=filters).tickets == [about_order]
    client.force_login(agent)
    html = client.get("/tickets/?view=all&order=PD-ORD-10042").content.decode()
    assert about_order.reference in html and 'name="order"' in html
    assert (
        client.get("/tickets/?view=all&order=PD-ORD-99999")
        .content.decode()
        .count('id="ticket-row-')
        == 0
    )
    api = APIClient()
    api.force_authenticate(agent)
    results = api.get("/api/tickets/?view=all&order=PD-ORD-10042").json()["results"]
    assert [t["reference"] for t in results] == [about_order.reference]


def test_the_ticket_page_has_the_orders_and_proofs_slot(customer, client):
    ticket = email("Where is PD-ORD-10042?", mid="m1").ticket
    client.force_login(UserFactory(role=Role.AGENT))
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert f'hx-get="/tickets/{ticket.reference}/proofs/"' in html
