"""A small data set whose metrics are computed by hand in test_metrics.py.

Monday 2 March 2026, UTC, business hours Mon-Fri 09:00-17:30:
- A (email, ana): created Mon 09:00, automated reply 09:01, note 09:05, staff reply 09:30,
  solved 11:00, due 12:00. Survey answered 5.
- B (sms, ben): created Fri 6 Mar 17:00, staff reply Mon 9 Mar 09:30, reopened once, solved
  Mon 10:00, due Sat 7 Mar 17:00. Survey sent, unanswered.
- C (email, team Sales, nobody): created Tue 3 Mar 10:00, still open, due Wed 4 Mar 10:00.
Clock for reading: Tue 10 Mar 12:00.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import TeamFactory, UserFactory
from analytics.services import record_event, refresh_conversation_log
from analytics.tests.factories import CustomerSatisfactionFactory
from tickets.models import ChannelKind, TicketStatus
from tickets.tests.factories import (
    InternalNoteFactory,
    OutboundMessageFactory,
    TicketFactory,
    TicketMessageFactory,
)

MON = datetime(2026, 3, 2, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(db, time_machine, settings):
    settings.TIME_ZONE = "UTC"
    settings.BUSINESS_HOURS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}
    ana = UserFactory(username="ana", role=Role.AGENT)
    ben = UserFactory(username="ben", role=Role.AGENT)
    sales = TeamFactory(name="Sales", slug="sales")

    def at(days: float, hours: float) -> None:
        time_machine.move_to(MON + timedelta(days=days, hours=hours), tick=False)

    at(0, 9)
    a = TicketFactory(channel=ChannelKind.EMAIL, assignee=ana, due_at=MON + timedelta(hours=12))
    TicketMessageFactory(ticket=a)
    at(0, 9 + 1 / 60)
    OutboundMessageFactory(ticket=a, author=None, is_automated=True)
    at(0, 9 + 5 / 60)
    InternalNoteFactory(ticket=a, author=ana)
    at(0, 9.5)
    _reply(a, ana)
    at(0, 11)
    _solve(a)
    CustomerSatisfactionFactory(ticket=a, rating=5, answered_at=MON + timedelta(hours=12))

    at(1, 10)
    c = TicketFactory(
        channel=ChannelKind.EMAIL,
        team=sales,
        status=TicketStatus.OPEN,
        due_at=MON + timedelta(days=2, hours=10),
    )
    TicketMessageFactory(ticket=c)

    at(4, 17)
    b = TicketFactory(
        channel=ChannelKind.SMS, assignee=ben, due_at=MON + timedelta(days=5, hours=17)
    )
    TicketMessageFactory(ticket=b)
    at(7, 9.5)
    _reply(b, ben)
    record_event(name="ticket.reopened", ticket=b)
    at(7, 10)
    _solve(b)
    CustomerSatisfactionFactory(ticket=b)

    time_machine.move_to(NOW, tick=False)
    return {"a": a, "b": b, "c": c, "ana": ana, "ben": ben, "sales": sales}


def _reply(ticket, author) -> None:
    # What reply_to_ticket writes (test_hooks.py checks it through the real service).
    OutboundMessageFactory(ticket=ticket, author=author)
    ticket.first_response_at = timezone.now()
    ticket.save()


def _solve(ticket) -> None:
    ticket.status = TicketStatus.SOLVED
    ticket.resolved_at = timezone.now()
    ticket.save()
    refresh_conversation_log(ticket=ticket)
