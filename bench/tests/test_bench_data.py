"""`manage.py bench_data`: volume, realism and a database left usable afterwards."""

import pytest
from django.core.management import call_command

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
