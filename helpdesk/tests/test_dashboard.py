"""The dashboard (issue 23, defect 11): my tickets by the one SLA clock, the team queue, today's
new and solved, each tile linking to the inbox view it counts, in a bounded number of queries."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets import selectors as ticket_selectors
from tickets.models import AgentHandoff, HandoffState, Ticket, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

TILE = re.compile(
    r'<a class="tile[^"]*" href="([^"]+)"><span class="tile-value">(\d+\+?)</span>'
    r'<span class="tile-label">([^<]+)</span>'
)


@pytest.fixture
def ana():
    return UserFactory(username="ana", role=Role.AGENT)


def due_in(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def queue(ana):
    """Ana's tickets in every SLA state, a colleague's, unassigned ones, solved ones."""
    ben = UserFactory(username="ben", role=Role.AGENT)
    for minutes in (-90, -5):
        TicketFactory(assignee=ana, status=TicketStatus.OPEN, due_at=due_in(minutes))
    TicketFactory(assignee=ana, status=TicketStatus.OPEN, due_at=due_in(30))
    for minutes in (180, 24 * 60, 3 * 24 * 60):
        TicketFactory(assignee=ana, status=TicketStatus.OPEN, due_at=due_in(minutes))
    TicketFactory(assignee=ana, status=TicketStatus.PENDING, due_at=due_in(600))
    TicketFactory(assignee=ben, status=TicketStatus.OPEN, due_at=due_in(-30))
    TicketFactory(assignee=None, status=TicketStatus.NEW, due_at=due_in(45))
    TicketFactory(assignee=None, status=TicketStatus.NEW, due_at=due_in(300))
    solved = TicketFactory(assignee=ana, status=TicketStatus.SOLVED, due_at=due_in(-600))
    Ticket.objects.filter(pk=solved.pk).update(resolved_at=timezone.now())
    AgentHandoff.objects.create(
        ticket=TicketFactory(assignee=ben, status=TicketStatus.OPEN, due_at=due_in(200)),
        from_agent=ben,
        to_agent=ana,
        reason="Ana knows this customer",
        state=HandoffState.PENDING,
    )
    return {"ben": ben}


def tiles(html: str) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for url, count, label in TILE.findall(html):
        value = int(count) if count.isdigit() else count  # "999+" past the cap
        found.setdefault(label, []).append((value, url.replace("&amp;", "&")))
    return found


def test_my_tickets_by_sla_state_and_the_team_queue(client, ana, queue):
    client.force_login(ana)
    html = client.get("/").content.decode()
    shown = tiles(html)

    assert shown["Overdue"] == [(2, "/tickets/?view=mine&sla=overdue")]
    assert shown["On time"] == [(4, "/tickets/?view=mine&sla=on_time")]
    assert shown["Handoffs for me"] == [(1, "/tickets/?view=handoffs")]
    assert shown["Unassigned"] == [(2, "/tickets/?view=unassigned")]
    assert shown["Past SLA"] == [(3, "/tickets/?view=open&sla=overdue")]
    # Mine, then the team's: the same label in both sections.
    assert shown["Breaching within 1\xa0h"] == [
        (1, "/tickets/?view=mine&sla=breaching"),
        (2, "/tickets/?view=open&sla=breaching"),
    ]
    assert shown["Waiting on the customer"] == [
        (1, "/tickets/?view=mine&status=pending"),
        (1, "/tickets/?view=open&status=pending"),
    ]
    assert shown["New today"][0][0] == Ticket.objects.count()
    assert shown["Solved today"][0][0] == 1
    assert "11 open" in html
    # The soonest-due of Ana's tickets first, with its due time.
    due_next = re.findall(r'<li><a href="/tickets/(PD-\d+)/">', html)
    expected = Ticket.objects.filter(assignee=ana, status__in=TicketStatus.OPEN_STATES).order_by(
        "due_at"
    )
    assert due_next == [t.reference for t in expected[:5]]


def test_every_tile_counts_exactly_what_its_inbox_link_lists(client, ana, queue):
    client.force_login(ana)
    for label, entries in tiles(client.get("/").content.decode()).items():
        if "today" in label:
            continue  # links to the newest / solved tickets, not a one-day filter
        for count, url in entries:
            listed = client.get(url).content.decode().count('<tr id="ticket-row-')
            assert listed == count, (label, url)


def test_managers_see_the_load_per_agent_and_agents_do_not(client, ana, queue):
    client.force_login(ana)
    assert "Open tickets by agent" not in client.get("/").content.decode()
    client.force_login(UserFactory(role=Role.MANAGER))
    html = client.get("/").content.decode()
    assert "Open tickets by agent" in html
    rows = re.findall(r'<tr><td><a href="([^"]+)">(\w+)</a></td><td>(\d+)</td>', html)
    assert [(name, int(n)) for _, name, n in rows] == [("ana", 7), ("ben", 2)]
    assert rows[0][0] == f"/tickets/?view=open&amp;assignee={ana.pk}"


def test_someone_without_the_inbox_gets_a_note_not_an_error(client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert "does not include the ticket inbox" in response.content.decode()


def test_the_dashboard_costs_the_same_few_queries_for_many_tickets(
    client, ana, queue, django_assert_max_num_queries
):
    client.force_login(UserFactory(role=Role.MANAGER))
    client.get("/")  # session, permissions and the like warm up
    for n in range(40):
        TicketFactory(assignee=ana if n % 2 else queue["ben"], due_at=due_in(n * 10 - 100))
    with django_assert_max_num_queries(12):
        response = client.get("/")
    assert response.status_code == 200


def test_tile_counts_stop_at_the_cap_in_one_bounded_query(
    client, ana, queue, monkeypatch, django_assert_num_queries
):
    """Issue 26: at a million tickets a full count per tile took 5 s; each count now reads at most
    the cap's rows (`SELECT COUNT(*) FROM (... LIMIT n)`), all in one statement."""
    monkeypatch.setattr(ticket_selectors, "SAVED_VIEW_COUNT_CAP", 2)
    client.force_login(ana)
    client.get("/")
    captured = []
    with django_assert_num_queries(6) as queries:
        html = client.get("/").content.decode()
        captured = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    found = {label: [count for count, _ in entries] for label, entries in tiles(html).items()}
    assert found["On time"] == ["2+"]  # four of Ana's tickets are on time
    assert found["Overdue"] == [2]
    assert "2+ open" in html
    assert len(captured) == 1 and captured[0].upper().count("LIMIT 3") == 13
