"""Row locks in the ticket services, exercised with real concurrent transactions (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import Conflict
from tickets import services
from tickets.models import HistoryKind, TicketEvent, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_racing_close_and_reopen_apply_one_after_the_other():
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(status=TicketStatus.SOLVED)
    barrier = threading.Barrier(2)

    def move(status: str) -> str:
        try:
            barrier.wait(timeout=10)
            services.change_status(ticket=ticket, actor=agent, status=status)
            return "ok"
        except Conflict:
            return "conflict"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(move, [TicketStatus.CLOSED, TicketStatus.OPEN]))
    # Closing first lets the reopen follow (closed -> open is staff's to do); reopening first
    # refuses the close (open -> closed is illegal). Never both from "solved": the history chains.
    changes = list(
        TicketEvent.objects.filter(ticket=ticket, kind=HistoryKind.STATUS).values_list(
            "before", "after"
        )
    )
    expected = {
        ("ok", "ok"): [("solved", "closed"), ("closed", "open")],
        ("conflict", "ok"): [("solved", "open")],
    }
    assert changes == expected[tuple(results)]
    ticket.refresh_from_db()
    assert ticket.status == changes[-1][1]
