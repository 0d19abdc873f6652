"""`manage.py bench_data`: volume, realism and a database left usable afterwards."""

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from helpdesk.management.commands.bench_data import LOADED, CopyStream, RowWriter, bulk_load
from printshop.models import TicketOrder
from tickets.models import (
    Customer,
    CustomerIdentity,
    MessageDirection,
    Ticket,
    TicketMessage,
    reference_for,
)
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_creates_the_requested_volume_with_references_from_ids():
    call_command("bench_data", tickets=30, messages_per_ticket=4, verbosity=0)

    assert Ticket.objects.count() == 30
    assert TicketMessage.objects.count() == 120
    assert all(t.reference == reference_for(t.pk) for t in Ticket.objects.all())
    assert CustomerIdentity.objects.filter(kind="email").count() == Customer.objects.count()


def test_spreads_history_over_time_and_statuses():
    call_command("bench_data", tickets=60, messages_per_ticket=2, verbosity=0)

    assert Ticket.objects.values("status").distinct().count() >= 4
    assert Ticket.objects.values("created_at").distinct().count() > 50
    ticket = Ticket.objects.filter(assignee__isnull=False).first()
    directions = list(ticket.messages.values_list("direction", flat=True))
    assert directions == [MessageDirection.INBOUND, MessageDirection.OUTBOUND]
    assert ticket.last_message_at >= ticket.created_at


def test_running_twice_adds_rows_and_later_inserts_still_work():
    call_command("bench_data", tickets=5, messages_per_ticket=1, verbosity=0)
    call_command("bench_data", tickets=5, messages_per_ticket=1, verbosity=0)

    # Explicit ids must not leave PostgreSQL's sequences behind.
    ticket = TicketFactory()

    assert Ticket.objects.count() == 11
    assert ticket.pk > max(Ticket.objects.exclude(pk=ticket.pk).values_list("pk", flat=True))


def test_links_each_ticket_to_the_order_its_subject_or_inbound_messages_name():
    call_command("bench_data", tickets=40, messages_per_ticket=3, verbosity=0)

    orders = list(TicketOrder.objects.select_related("ticket"))
    assert {o.source for o in orders} == {"shopify", "perp"}
    for order in orders:
        inbound = order.ticket.messages.filter(direction=MessageDirection.INBOUND)
        named = [order.ticket.subject, *inbound.values_list("body", flat=True)]
        assert any(order.number in text for text in named)
    unlinked = Ticket.objects.exclude(orders__isnull=False)
    assert not any("#1" in t.subject or "PD-ORD-" in t.subject for t in unlinked)


def test_the_loaded_data_serves_the_inbox_and_its_order_search(client):
    call_command("bench_data", tickets=30, messages_per_ticket=2, verbosity=0)
    client.force_login(User.objects.get(username="bench-agent-1"))
    order = TicketOrder.objects.order_by("pk").first()

    page = client.get("/tickets/?view=all").content.decode()
    found = client.get("/tickets/", {"view": "all", "q": order.number}).content.decode()

    assert page.count('id="ticket-row-') == 30
    assert found.count('id="ticket-row-') == 1 and order.ticket.reference in found


def schema(tables: list[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
            "UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename = ANY(%s) ORDER BY 1, 2, 3",
            [tables, tables],
        )
        return cursor.fetchall()


def timestamps() -> dict:
    return {"created_at": timezone.now(), "updated_at": timezone.now()}


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"
)


@postgres_only
def test_copy_path_leaves_the_same_indexes_and_keys_and_sequences_past_the_rows():
    tables = [model._meta.db_table for model in LOADED]
    before = schema(tables)

    call_command("bench_data", tickets=20, messages_per_ticket=3, verbosity=0)

    assert schema(tables) == before
    assert len(before) > 30  # indexes and constraints were there to compare
    with connection.cursor() as cursor:
        for model in LOADED:
            table = model._meta.db_table
            cursor.execute(f"SELECT last_value FROM {table}_id_seq")
            assert cursor.fetchone()[0] == model.objects.order_by("-pk").first().pk


@postgres_only
def test_copy_text_keeps_tabs_newlines_backslashes_and_json():
    name = "Tab\there\nnew line \\N back\\slash"
    row = {"id": 9001, "name": name, "external_data": {"note": "a\tb"}, "merged_into_id": None}
    with bulk_load(Customer, log=print) as stream:
        assert isinstance(stream, CopyStream)
        RowWriter(Customer, stream).write([{**row, **timestamps()}])

    customer = Customer.objects.get(pk=9001)
    assert (customer.name, customer.external_data) == (name, {"note": "a\tb"})


@postgres_only
def test_a_failed_copy_rolls_back_rows_and_restores_the_dropped_indexes():
    tables = [Customer._meta.db_table]
    before = schema(tables)

    with pytest.raises(psycopg.errors.UniqueViolation), bulk_load(Customer, log=print) as stream:
        RowWriter(Customer, stream).write(
            [{"id": 7, "name": "A", **timestamps()}, {"id": 7, "name": "B", **timestamps()}]
        )

    assert schema(tables) == before
    assert not Customer.objects.filter(pk=7).exists()
