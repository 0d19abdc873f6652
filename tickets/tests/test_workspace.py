"""The agent workspace (issue 23): three panes, one property editor, the conversation list."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.models import TicketStatus
from tickets.selectors import InboxFilters, InboxView, is_in_inbox_view
from tickets.tests.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    user = UserFactory(role=Role.MANAGER)
    client.force_login(user)
    return user


def test_the_ticket_page_has_three_panes_and_one_property_editor(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN, subject="Bleed on the A5 flyer")
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    for pane in ('id="conversation-list"', 'class="ws-conversation"', 'class="ws-context"'):
        assert pane in html
    # Every property saves on change: no "Set" button per panel.
    assert "Set status" not in html and "Set priority" not in html
    assert html.count('class="side-card props"') == 1
    assert html.count('hx-trigger="change"') == 3
    for field in ("status-select", "priority-select", "assign-agent", "assign-team"):
        assert f'id="{field}"' in html
    assert 'id="shortcuts-help"' in html


def test_the_property_editor_saves_a_change_like_the_old_form(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    response = client.post(
        f"/tickets/{ticket.reference}/priority/", {"priority": "urgent"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


def test_a_viewer_sees_the_properties_but_no_editor(client):
    client.force_login(UserFactory(role=Role.VIEWER))
    ticket = TicketFactory(status=TicketStatus.OPEN)
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert 'class="prop-facts"' in html
    assert 'id="status-select"' not in html and 'id="assign-agent"' not in html


def test_the_conversation_list_is_the_inbox_view_compact(client, agent):
    shown = TicketFactory(status=TicketStatus.OPEN, subject="Rush: 200 tote bags by Friday")
    TicketMessageFactory(ticket=shown, body="Can you still make Friday?")
    hidden = TicketFactory(status=TicketStatus.SOLVED)
    response = client.get("/tickets/", {"view": "open", "pane": "list"})
    html = response.content.decode()
    assert 'id="conversation-list-items"' in html and "<table" not in html
    assert f'id="conv-{shown.reference}"' in html and "Can you still make Friday?" in html
    assert f'id="conv-{hidden.reference}"' not in html


def test_the_live_inbox_asks_whether_a_changed_ticket_belongs_in_the_view(client, agent):
    urgent = TicketFactory(status=TicketStatus.OPEN, priority="urgent")
    normal = TicketFactory(status=TicketStatus.OPEN, priority="normal")
    view = {"view": "open", "priority": "urgent", "in_view": "1"}
    response = client.get(f"/tickets/{urgent.reference}/row/", view)
    assert response.status_code == 200
    assert f'id="ticket-row-{urgent.reference}"' in response.content.decode()
    assert client.get(f"/tickets/{normal.reference}/row/", view).status_code == 204
    item = client.get(f"/tickets/{urgent.reference}/row/", {**view, "pane": "list"})
    assert f'id="conv-{urgent.reference}"' in item.content.decode()


def test_in_view_checks_use_the_views_own_rules(agent):
    mine = TicketFactory(status=TicketStatus.OPEN, assignee=agent)
    theirs = TicketFactory(status=TicketStatus.OPEN, assignee=UserFactory(role=Role.AGENT))
    filters = InboxFilters(view=InboxView.MINE)
    assert is_in_inbox_view(user=agent, filters=filters, reference=mine.reference)
    assert not is_in_inbox_view(user=agent, filters=filters, reference=theirs.reference)


def test_a_closed_ticket_offers_reopen_and_agents_see_who_merges(client):
    client.force_login(UserFactory(role=Role.AGENT))
    closed = TicketFactory(status=TicketStatus.CLOSED)
    html = client.get(f"/tickets/{closed.reference}/").content.decode()
    assert "Reopen this ticket" in html
    response = client.post(f"/tickets/{closed.reference}/status/", {"status": "open"})
    assert response.status_code == 302
    closed.refresh_from_db()
    assert closed.status == TicketStatus.OPEN
    html = client.get(f"/tickets/{closed.reference}/").content.decode()
    assert 'id="merge-into"' not in html and "Merging tickets and customers is for managers" in html
