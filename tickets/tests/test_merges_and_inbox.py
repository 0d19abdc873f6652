from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError, Conflict, PermissionDenied
from tickets import selectors, services
from tickets.merges import merge_customers, merge_tickets
from tickets.models import (
    AgentHandoff,
    CustomerIdentity,
    IdentityKind,
    InternalNote,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tickets.saved_replies import create_saved_reply, render_saved_reply
from tickets.tests.factories import (
    CustomerFactory,
    CustomerIdentityFactory,
    OutboundMessageFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db


def test_merge_customers_moves_identities_and_tickets(manager):
    keep = CustomerIdentityFactory(value="keep@example.com").customer
    dupe = CustomerIdentityFactory(kind=IdentityKind.PHONE, value="+447700900123").customer
    dupe.shopify_customer_id = "gid-77"
    dupe.save()
    ticket = TicketFactory(customer=dupe)
    merge_customers(source=dupe, target=keep, actor=manager)
    keep.refresh_from_db()
    dupe.refresh_from_db()
    ticket.refresh_from_db()
    assert dupe.merged_into == keep
    assert ticket.customer == keep
    assert set(keep.identities.values_list("value", flat=True)) == {
        "keep@example.com",
        "+447700900123",
    }
    assert keep.shopify_customer_id == "gid-77"
    # Inbound on the merged identity now finds the surviving customer.
    found = services.find_or_create_customer(kind=IdentityKind.PHONE, value="+447700900123")
    assert found == keep


def test_merge_customers_rules(manager, agent):
    a, b = CustomerFactory(), CustomerFactory()
    with pytest.raises(PermissionDenied):
        merge_customers(source=a, target=b, actor=agent)
    with pytest.raises(ApplicationError):
        merge_customers(source=a, target=a, actor=manager)
    merge_customers(source=a, target=b, actor=manager)
    with pytest.raises(Conflict):
        merge_customers(source=a, target=b, actor=manager)
    assert CustomerIdentity.objects.count() == 0


def test_merge_tickets_moves_conversation_and_closes_source(manager):
    target = TicketFactory(status=TicketStatus.OPEN)
    source = TicketFactory(status=TicketStatus.OPEN, customer=target.customer)
    TicketMessageFactory(ticket=source, body="from the duplicate")
    OutboundMessageFactory(ticket=source, body="answer on the duplicate")
    InternalNote.objects.create(ticket=source, author=manager, body="note")
    merge_tickets(source=source, target=target, actor=manager)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.status == TicketStatus.CLOSED and source.merged_into == target
    assert TicketMessage.objects.filter(ticket=target).count() == 2
    assert target.last_customer_message_at is not None
    assert target.notes.filter(body__contains=source.reference).exists()
    assert source.notes.filter(body__contains=target.reference).exists()


def test_merge_tickets_rules(manager, agent):
    a = TicketFactory(status=TicketStatus.OPEN)
    closed = TicketFactory(status=TicketStatus.CLOSED)
    with pytest.raises(PermissionDenied):
        merge_tickets(source=a, target=closed, actor=agent)
    with pytest.raises(Conflict):
        merge_tickets(source=a, target=closed, actor=manager)
    with pytest.raises(ApplicationError):
        merge_tickets(source=a, target=a, actor=manager)


def test_saved_reply_rendering_is_plain_substitution(manager):
    ticket = TicketFactory(subject="Banner")
    ticket.customer.name = "{{ticket_reference}} {% debug %}"
    ticket.customer.external_data = {"shopify": {"orders": [{"name": "#1099"}]}}
    ticket.customer.save()
    reply = create_saved_reply(
        actor=manager, title="t", body="Hi {{customer_first_name}} re {{order_number}}"
    )
    # The customer's name is inserted as text: it is not expanded again.
    assert render_saved_reply(saved_reply=reply, ticket=ticket) == (
        "Hi {{ticket_reference}} re #1099"
    )


def test_saved_reply_needs_manager(agent):
    with pytest.raises(PermissionDenied):
        create_saved_reply(actor=agent, title="t", body="b")


# Inbox -----------------------------------------------------------------------------------------


def _page(user, **filters):
    return selectors.list_inbox(user=user, filters=selectors.InboxFilters(**filters))


def refs(page):
    return [t.reference for t in page.tickets]


def test_inbox_views(agent, other_agent, team):
    team.members.add(agent)
    mine = TicketFactory(status=TicketStatus.OPEN, assignee=agent)
    unassigned = TicketFactory(status=TicketStatus.NEW)
    escalated = TicketFactory(status=TicketStatus.OPEN, is_escalated=True, assignee=other_agent)
    handed = TicketFactory(status=TicketStatus.OPEN, assignee=other_agent)
    AgentHandoff.objects.create(ticket=handed, from_agent=other_agent, to_team=team, reason="x")
    TicketFactory(status=TicketStatus.SOLVED, assignee=agent)
    assert refs(_page(agent, view="mine")) == [mine.reference]
    assert refs(_page(agent, view="unassigned")) == [unassigned.reference]
    assert refs(_page(agent, view="escalated")) == [escalated.reference]
    assert refs(_page(agent, view="handoffs")) == [handed.reference]
    assert set(refs(_page(agent, view="open"))) == {
        mine.reference,
        unassigned.reference,
        escalated.reference,
        handed.reference,
    }
    assert refs(_page(other_agent, view="handoffs")) == []


def test_inbox_filters_and_search(agent, team):
    sms = TicketFactory(status=TicketStatus.OPEN, channel="sms", priority="high", team=team)
    email = TicketFactory(status=TicketStatus.PENDING, subject="Glossy flyers")
    TicketMessageFactory(ticket=sms, body="the banner grommets ripped")
    assert refs(_page(agent, channel="sms")) == [sms.reference]
    assert refs(_page(agent, priority="high")) == [sms.reference]
    assert refs(_page(agent, status="pending")) == [email.reference]
    assert refs(_page(agent, team=team.pk)) == [sms.reference]
    assert refs(_page(agent, q="GROMMETS")) == [sms.reference]
    assert refs(_page(agent, q="glossy")) == [email.reference]
    assert refs(_page(agent, q=email.reference)) == [email.reference]


def test_inbox_search_by_customer_email_or_phone_uses_exact_identity(agent):
    customer = CustomerIdentityFactory(kind="email", value="jo@example.com").customer
    CustomerIdentityFactory(customer=customer, kind="whatsapp", value="+447700900123")
    theirs = TicketFactory(status=TicketStatus.OPEN, customer=customer)
    other = TicketFactory(status=TicketStatus.OPEN, subject="from jo@example.com.au")
    TicketMessageFactory(ticket=other, body="cc jo@example.com")
    assert refs(_page(agent, q=" Jo@Example.com ")) == [theirs.reference]
    assert refs(_page(agent, q="+44 7700 900123")) == [theirs.reference]
    # Not a whole address: substring search over identities, subjects and bodies as before.
    assert sorted(refs(_page(agent, q="jo@example"))) == sorted([theirs.reference, other.reference])


def test_inbox_keyset_pagination_is_stable_with_equal_timestamps(agent):
    tickets = [TicketFactory(status=TicketStatus.OPEN) for _ in range(5)]
    same = timezone.now() - timedelta(hours=1)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(updated_at=same)
    for sort in ("-updated", "updated", "-created", "created"):
        seen, cursor = [], None
        while True:
            page = selectors.list_inbox(
                user=agent, filters=selectors.InboxFilters(sort=sort), cursor=cursor, limit=2
            )
            seen += refs(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(t.reference for t in tickets)
        assert len(seen) == 5


def test_unread_marker(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    assert not _page(agent).tickets[0].is_unread
    services.record_inbound_message(ticket=ticket, channel="email", sender="a@b.co", body="hi")
    assert _page(agent).tickets[0].is_unread
    services.mark_ticket_viewed(ticket=ticket, user=agent)
    assert not _page(agent).tickets[0].is_unread


def _make_inbox(count, agent):
    for _ in range(count):
        ticket = TicketFactory(status=TicketStatus.OPEN, assignee=agent)
        TicketMessageFactory(ticket=ticket)


@pytest.mark.parametrize("rows", [20, 100])
def test_inbox_page_query_count_is_constant(
    rows, client, agent, team, django_assert_max_num_queries
):
    _make_inbox(rows, agent)
    client.force_login(agent)
    client.get("/tickets/")  # warm the session and content types
    # Session, user, permissions, pickers (staff, teams, tags), saved views, the rows and their
    # tags: the same at any size.
    with django_assert_max_num_queries(10):
        response = client.get("/tickets/", {"view": "mine"})
    assert response.content.decode().count('data-ticket="PD-') == min(rows, 50)


@pytest.mark.parametrize("rows", [20, 100])
def test_inbox_api_query_count_is_constant(rows, agent, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    _make_inbox(rows, agent)
    client = APIClient()
    client.force_authenticate(agent)
    with django_assert_max_num_queries(4):  # the rows' tags are one prefetch
        response = client.get("/api/tickets/", {"limit": 100})
    assert len(response.json()["results"]) == rows
