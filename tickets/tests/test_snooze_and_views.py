"""Snooze (until a time or the customer's reply, back with a marker) and saved inbox views."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from automation.sla import run_sla_checks
from core.errors import ApplicationError, Conflict, PermissionDenied
from tickets import saved_views, selectors, services, snooze
from tickets.models import CustomField, SavedView, TicketEvent, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _inbox_refs(client, **params) -> str:
    return client.get("/tickets/", params).content.decode()


def test_snooze_until_reply_hides_the_ticket_until_the_customer_writes(client, agent):
    ticket = TicketFactory(status=TicketStatus.PENDING)
    client.force_login(agent)
    response = client.post(f"/tickets/{ticket.reference}/snooze/", {"until_reply": "1"})
    assert response.status_code == 302
    assert f'data-ticket="{ticket.reference}"' not in _inbox_refs(client)
    assert f'data-ticket="{ticket.reference}"' in _inbox_refs(client, view="snoozed")

    services.record_inbound_message(ticket=ticket, channel="email", sender="c@x.com", body="Hi")

    ticket.refresh_from_db()
    assert not ticket.is_snoozed and ticket.woke_at is not None
    inbox = _inbox_refs(client)
    assert f'data-ticket="{ticket.reference}"' in inbox and "data-back-from-snooze" in inbox
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "name"))
    assert ("snoozed", "") in kinds and ("woke", "customer replied") in kinds
    client.get(f"/tickets/{ticket.reference}/")  # opening it clears the marker
    assert "data-back-from-snooze" not in _inbox_refs(client)


def test_timed_snooze_wakes_in_the_periodic_check(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    until = timezone.now() + timedelta(hours=2)
    snooze.snooze_ticket(ticket=ticket, actor=agent, until=until)
    assert run_sla_checks(now=until - timedelta(minutes=1)).woken == []
    with time_machine.travel(until + timedelta(minutes=1), tick=False):
        assert run_sla_checks().woken == [ticket.pk]
        assert run_sla_checks().woken == []
    ticket.refresh_from_db()
    assert not ticket.is_snoozed


def test_snooze_needs_a_future_time_or_the_reply_and_an_open_ticket(agent, viewer):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    with pytest.raises(ApplicationError) as excinfo:
        snooze.snooze_ticket(ticket=ticket, actor=agent)
    assert "until" in excinfo.value.fields
    with pytest.raises(ApplicationError):
        snooze.snooze_ticket(ticket=ticket, actor=agent, until=timezone.now() - timedelta(1))
    with pytest.raises(Conflict):
        snooze.snooze_ticket(
            ticket=TicketFactory(status=TicketStatus.SOLVED), actor=agent, until_reply=True
        )
    with pytest.raises(PermissionDenied):
        snooze.snooze_ticket(ticket=ticket, actor=viewer, until_reply=True)


def test_a_garbled_time_is_a_form_error(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    response = client.post(f"/tickets/{ticket.reference}/snooze/", {"until": "soon"})
    assert response.status_code == 400


def test_a_shared_view_lists_its_tickets_with_counts(client, agent, other_agent):
    rush = TicketFactory(status=TicketStatus.OPEN)
    rush.tags.create(name="rush")
    TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    response = client.post(
        "/tickets/views/",
        {"name": "Rush proofs", "is_shared": "1", "view": "all", "status": "open", "tag": "rush"},
    )
    view = SavedView.objects.get()
    assert view.filters == {"view": "all", "status": "open", "tag": "rush"}
    assert response.status_code == 302 and f"saved={view.pk}" in response["Location"]

    [listed] = selectors.list_saved_views(user=other_agent)
    assert (listed.name, listed.count) == ("Rush proofs", 1)
    client.force_login(other_agent)
    inbox = client.get(f"/tickets/?{listed.query}").content.decode()
    assert inbox.count('data-ticket="PD-') == 1 and f'data-ticket="{rush.reference}"' in inbox
    assert 'data-saved-view="Rush proofs"' in inbox


def test_personal_views_stay_personal_and_only_the_owner_deletes(agent, other_agent, manager):
    mine = saved_views.create_saved_view(
        actor=agent, name="Mine", filters=selectors.InboxFilters(view="mine")
    )
    shared = saved_views.create_saved_view(
        actor=agent, name="Team", filters=selectors.InboxFilters(), is_shared=True
    )
    assert [v.name for v in selectors.list_saved_views(user=other_agent)] == ["Team"]
    with pytest.raises(ApplicationError):
        saved_views.create_saved_view(actor=agent, name="Mine", filters=selectors.InboxFilters())
    with pytest.raises(PermissionDenied):
        saved_views.delete_saved_view(actor=other_agent, saved_view_id=shared.pk)
    saved_views.delete_saved_view(actor=manager, saved_view_id=shared.pk)
    saved_views.delete_saved_view(actor=agent, saved_view_id=mine.pk)
    assert not SavedView.objects.exists()


def test_view_counts_take_one_capped_query_per_view(agent, django_assert_max_num_queries):
    CustomField.objects.create(key="substrate", label="Substrate", kind="text")
    for name in ("a", "b", "c"):
        saved_views.create_saved_view(
            actor=agent, name=name, filters=selectors.InboxFilters(q=name, tag=name)
        )
    saved_views.create_saved_view(
        actor=agent, name="d", filters=selectors.InboxFilters(field="substrate:vinyl")
    )
    # The views, the custom fields once, then one LIMIT-ed count per view.
    with django_assert_max_num_queries(6) as captured:
        views = selectors.list_saved_views(user=agent)
    assert [v.count for v in views] == [0, 0, 0, 0]
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 4 and all("LIMIT 1000" in sql for sql in counts)


def test_view_counts_stop_at_the_cap(agent, monkeypatch):
    monkeypatch.setattr(selectors, "SAVED_VIEW_COUNT_CAP", 2)
    for _ in range(3):
        TicketFactory(status=TicketStatus.OPEN)
    saved_views.create_saved_view(actor=agent, name="Open", filters=selectors.InboxFilters())
    [view] = selectors.list_saved_views(user=agent)
    assert (view.count, view.count_label) == (3, "2+")


def test_the_rail_counts_endpoint_answers_each_view_for_its_user(client, agent, other_agent):
    TicketFactory(status=TicketStatus.OPEN, assignee=agent)
    mine = saved_views.create_saved_view(
        actor=agent, name="Mine", filters=selectors.InboxFilters(view="mine"), is_shared=True
    )
    client.force_login(agent)
    page = client.get("/tickets/").content.decode()
    assert 'data-saved-view-counts="/tickets/views/counts/"' in page
    assert client.get("/tickets/views/counts/").json() == {
        "views": [{"id": mine.pk, "count": 1, "label": "1"}]
    }
    # A shared "Mine" counts the viewer's own tickets.
    client.force_login(other_agent)
    assert client.get("/tickets/views/counts/").json()["views"][0]["count"] == 0
    client.logout()
    assert client.get("/tickets/views/counts/").status_code == 302
