"""Macros that act: a saved reply that also tags, sets priority, assignee and status in one
step, each change on the timeline; all or nothing."""

import pytest

from core.errors import ApplicationError, Conflict
from tickets import macros, saved_replies
from tickets.models import CustomField, MessageDirection, SavedReply, TicketEvent, TicketStatus
from tickets.tests.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def proof_ok(manager):
    return saved_replies.create_saved_reply(
        actor=manager,
        title="Proof approved",
        body="Thanks {{customer_first_name}}, your proof is approved and printing.",
        actions=saved_replies.MacroActions(
            set_status="solved", set_priority="high", add_tags=["proof"], set_assignee=manager
        ),
    )


def test_a_macro_replies_tags_and_solves_in_one_step(client, manager, proof_ok):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    TicketMessageFactory(ticket=ticket)
    client.force_login(manager)
    response = client.post(f"/tickets/{ticket.reference}/macro/", {"saved_reply": proof_ok.pk})
    assert response.status_code == 302

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("solved", "high", manager)
    assert list(ticket.tags.values_list("name", flat=True)) == ["proof"]
    reply = ticket.messages.get(direction=MessageDirection.OUTBOUND)
    assert "your proof is approved" in reply.body
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["macro", "tags", "priority", "assignee", "status"]
    timeline = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    for kind in ("macro", "tags", "priority", "status"):
        assert f'data-history="{kind}"' in timeline
    assert "applied macro <strong>Proof approved</strong>" in timeline


def test_a_refused_step_undoes_the_whole_macro(manager, proof_ok):
    ticket = TicketFactory(status=TicketStatus.NEW)
    proof_ok.set_status = "closed"  # new -> closed is not a legal move
    proof_ok.save()
    with pytest.raises(Conflict):
        macros.apply_macro(ticket=ticket, actor=manager, saved_reply=proof_ok)
    ticket.refresh_from_db()
    assert not ticket.messages.exists() and not ticket.tags.exists()
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_macro_actions_are_validated(manager, viewer):
    with pytest.raises(ApplicationError) as excinfo:
        saved_replies.create_saved_reply(
            actor=manager,
            title="Bad",
            body="x",
            actions=saved_replies.MacroActions(
                set_status="lost", add_tags=["no spaces!"], set_assignee=viewer
            ),
        )
    assert set(excinfo.value.fields) == {"set_status", "add_tags", "set_assignee"}
    assert not SavedReply.objects.exists()


def test_the_saved_replies_page_edits_macro_actions(client, manager, agent):
    client.force_login(manager)
    response = client.post(
        "/saved-replies/",
        {
            "title": "Rush",
            "body": "On it!",
            "set_status": "pending",
            "set_priority": "urgent",
            "add_tags": "rush, proof",
            "set_assignee": agent.pk,
        },
    )
    assert response.status_code == 302
    macro = SavedReply.objects.get()
    assert (macro.set_status, macro.set_priority, macro.add_tags, macro.set_assignee) == (
        "pending",
        "urgent",
        ["proof", "rush"],
        agent,
    )
    ticket = TicketFactory(status=TicketStatus.OPEN)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Apply macro" in page and "tag proof, rush" in page


@pytest.fixture
def reprint_fields():
    CustomField.objects.create(
        key="reprint_reason", label="Reprint reason", kind="choice", choices=["misprint", "late"]
    )
    CustomField.objects.create(key="copies", label="Copies", kind="number")


def test_a_macro_sets_ticket_fields_from_the_saved_replies_page(client, manager, reprint_fields):
    client.force_login(manager)
    page = client.get("/saved-replies/").content.decode()
    assert 'name="set_field.reprint_reason"' in page and 'name="set_field.copies"' in page
    response = client.post(
        "/saved-replies/",
        {
            "title": "Misprint reprint",
            "body": "Sorry, we are reprinting it.",
            "set_field.reprint_reason": "misprint",
            "set_field.copies": "",
        },
    )
    assert response.status_code == 302
    macro = SavedReply.objects.get(title="Misprint reprint")
    assert macro.set_fields == {"reprint_reason": "misprint"} and macro.has_actions

    ticket = TicketFactory(status=TicketStatus.OPEN)
    TicketMessageFactory(ticket=ticket)
    assert "reprint_reason misprint" in client.get(f"/tickets/{ticket.reference}/").content.decode()
    client.post(f"/tickets/{ticket.reference}/macro/", {"saved_reply": macro.pk})
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"reprint_reason": "misprint"}
    history = TicketEvent.objects.filter(ticket=ticket).values_list("kind", "name")
    assert list(history) == [("macro", "Misprint reprint"), ("field", "reprint_reason")]


def test_a_macro_refuses_a_field_value_of_the_wrong_kind(client, manager, reprint_fields):
    with pytest.raises(ApplicationError) as excinfo:
        saved_replies.create_saved_reply(
            actor=manager,
            title="Bad",
            body="x",
            actions=saved_replies.MacroActions(set_fields={"copies": "many", "nope": "1"}),
        )
    assert set(excinfo.value.fields) == {"set_field.copies", "set_field.nope"}
    client.force_login(manager)
    refused = client.post(
        "/saved-replies/", {"title": "Bad", "body": "x", "set_field.copies": "many"}
    )
    assert refused.status_code == 400 and "Not a number." in refused.content.decode()
