"""Row locks in the ticket services, exercised with real concurrent transactions (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import Conflict
from tickets import services
from tickets.models import TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_racing_close_and_reopen_never_both_apply():
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
    # Whichever commits first wins; the other sees the new status and is refused
    # (closed -> open and open -> closed are both illegal).
    assert results == ["conflict", "ok"]
    ticket.refresh_from_db()
    assert ticket.status in (TicketStatus.CLOSED, TicketStatus.OPEN)
