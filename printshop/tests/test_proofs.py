"""Proof lifecycle: draft → send (version n, older superseded) → the customer's decision."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from comms.models import ChannelMessage, Notification
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from printshop import services
from printshop.models import PerpWriteBack, Proof, ProofDecision, TicketOrder
from printshop.tests.factories import ProofFactory, make_image, make_pdf
from tickets.models import (
    DeliveryStatus,
    IdentityKind,
    InternalNote,
    TicketMessage,
    TicketStatus,
)
from tickets.services import record_inbound_message
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def ticket(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN, assignee=agent)
    CustomerIdentityFactory(
        customer=ticket.customer, kind=IdentityKind.EMAIL, value="jo@example.com"
    )
    return ticket


def upload(ticket, actor, *, data=None, name="card.pdf", **target):
    return services.create_proof_from_upload(
        ticket=ticket,
        actor=actor,
        upload=SimpleUploadedFile(name, data or make_pdf(width_mm=85, height_mm=55, bleed_mm=3)),
        target=services.ProofTarget(**target),
    )


def send(proof, actor, message="Please check the spelling."):
    return services.send_proof(proof=proof, actor=actor, message=message)


def test_upload_makes_a_draft_with_preflight_and_a_private_file(ticket, agent):
    proof = upload(ticket, agent, order_number="pd-ord-10042", order_line="Cards")
    assert proof.sent_at is None and proof.version is None
    assert proof.content_type == "application/pdf"
    assert proof.order_number == "PD-ORD-10042"
    assert proof.line_key == "order:PD-ORD-10042:cards"
    assert proof.preflight["details"]["trim_mm"] == [85.0, 55.0]
    # Stored under a random name, not the customer's file name or the ticket reference.
    assert proof.file.name.startswith("proofs/") and "card" not in proof.file.name
    assert ticket.reference not in proof.file.name


def test_a_file_named_pdf_that_is_not_one_is_refused(ticket, agent):
    with pytest.raises(ApplicationError) as exc:
        upload(ticket, agent, data=b"<svg onload=alert(1)>", name="proof.pdf")
    assert exc.value.code == "unsupported_file_type"
    assert not Proof.objects.exists()


def test_viewers_cannot_send_proofs(ticket):
    with pytest.raises(PermissionDenied):
        upload(ticket, UserFactory(role=Role.VIEWER))


def test_sending_gives_version_one_and_messages_the_customer(
    ticket, agent, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        proof = send(upload(ticket, agent, order_number="PD-ORD-10042"), agent)
    assert proof.version == 1
    assert proof.expires_at - proof.sent_at == timedelta(days=settings.PRINTSHOP_PROOF_EXPIRY_DAYS)
    message = proof.sent_message
    assert message.is_automated and message.channel == "email"
    assert f"https://help.example.com/proofs/{proof.token}/" in message.body
    assert "Please check the spelling." in message.body
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED  # sandbox
    assert TicketOrder.objects.filter(ticket=ticket, number="PD-ORD-10042").exists()
    with pytest.raises(Conflict):
        send(proof, agent)


def test_new_versions_of_a_line_supersede_the_old_ones(ticket, agent):
    first = send(upload(ticket, agent, order_number="PD-ORD-10042", order_line="Cards"), agent)
    other_line = send(upload(ticket, agent, order_number="PD-ORD-10042", order_line="Flyer"), agent)
    second = send(upload(ticket, agent, order_number="PD-ORD-10042", order_line="cards"), agent)
    # The same order line on another ticket continues the count.
    elsewhere = TicketFactory(customer=ticket.customer, status=TicketStatus.OPEN)
    third = send(upload(elsewhere, agent, order_number="PD-ORD-10042", order_line="Cards"), agent)
    first.refresh_from_db()
    second.refresh_from_db()
    other_line.refresh_from_db()
    assert (first.version, second.version, third.version, other_line.version) == (1, 2, 3, 1)
    assert first.is_superseded and second.is_superseded and not third.is_superseded
    assert not other_line.is_superseded
    with pytest.raises(Conflict) as exc:
        services.decide_proof(token=first.token, decision=ProofDecision.APPROVED)
    assert exc.value.code == "proof_superseded"


def test_approval_records_time_ip_note_notification_and_event(
    ticket, agent, django_capture_on_commit_callbacks
):
    proof = send(upload(ticket, agent), agent)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decided = services.decide_proof(
            token=proof.token, decision="approved", comment="Looks great", ip="203.0.113.9"
        )
    assert decided.decision == ProofDecision.APPROVED
    assert decided.decided_at is not None and decided.decided_ip == "203.0.113.9"
    assert decided.perp_status == PerpWriteBack.NOT_NEEDED  # an upload not tied to PERP
    note = InternalNote.objects.get(ticket=ticket, is_automated=True)
    assert "approved proof v1" in note.body and "203.0.113.9" in note.body
    notification = Notification.objects.get(recipient=agent)
    assert ticket.reference in notification.title and notification.body == "Looks great"
    assert AnalyticsEvent.objects.filter(name="proof.approved", ticket=ticket).exists()
    [post] = ChannelMessage.objects.filter(channel__slug="graphic-design")
    assert ticket.reference in post.body and "Looks great" in post.body
    assert post.author.username == "automation"
    assert callbacks  # ticket.updated is published after commit


def test_changes_need_a_comment_and_the_decision_is_final(ticket, agent):
    proof = send(upload(ticket, agent), agent)
    with pytest.raises(ApplicationError) as exc:
        services.decide_proof(token=proof.token, decision="changes_requested", comment="  ")
    assert exc.value.code == "comment_required"
    services.decide_proof(token=proof.token, decision="changes_requested", comment="Bigger logo")
    with pytest.raises(Conflict) as exc:
        services.decide_proof(token=proof.token, decision="approved")
    assert exc.value.code == "proof_decided"
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.CHANGES_REQUESTED
    assert proof.decision_comment == "Bigger logo"


def test_expired_unknown_and_draft_tokens_are_refused(ticket, agent):
    expired = ProofFactory(ticket=ticket, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ApplicationError) as exc:
        services.decide_proof(token=expired.token, decision="approved")
    assert exc.value.status == 410
    with pytest.raises(NotFound):
        services.decide_proof(token="not-a-token", decision="approved")
    draft = upload(ticket, agent)
    with pytest.raises(NotFound):
        services.decide_proof(token=draft.token, decision="approved")


def test_invalid_decision_and_bad_ip_are_handled(ticket, agent):
    proof = send(upload(ticket, agent), agent)
    with pytest.raises(ApplicationError) as exc:
        services.decide_proof(token=proof.token, decision="maybe")
    assert exc.value.code == "invalid_decision"
    decided = services.decide_proof(token=proof.token, decision="approved", ip="not-an-ip")
    assert decided.decided_ip is None


def test_discarding_a_draft_deletes_its_file(ticket, agent, django_capture_on_commit_callbacks):
    proof = upload(ticket, agent, data=make_image(width=20, height=20), name="x.png")
    storage = proof.file.storage
    name = proof.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.discard_proof_draft(proof=proof, actor=agent)
    assert not storage.exists(name)
    sent = send(upload(ticket, agent), agent)
    with pytest.raises(Conflict):
        services.discard_proof_draft(proof=sent, actor=agent)


def test_a_decision_publishes_ticket_updated_after_commit(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks
):
    proof = send(upload(ticket, agent), agent)
    sent = []
    monkeypatch.setattr("tickets.live.group_send", lambda group, event: sent.append(group))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.decide_proof(token=proof.token, decision="approved")
    assert sent == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert f"ticket.{ticket.reference}" in sent and "inbox" in sent


def test_without_an_assignee_the_sender_is_notified(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="x@y.example")
    proof = send(upload(ticket, agent), agent)
    services.decide_proof(token=proof.token, decision="changes_requested", comment="Blue")
    assert Notification.objects.get(recipient=agent).body == "Blue"


def test_proof_link_goes_by_email_when_the_whatsapp_window_closed(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN, channel="whatsapp", assignee=agent)
    CustomerIdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="a@b.com")
    inbound = record_inbound_message(
        ticket=ticket, channel="whatsapp", sender="+447700900123", body="Proof please"
    )
    TicketMessage.objects.filter(pk=inbound.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    proof = send(upload(ticket, agent), agent)
    assert proof.sent_message.channel == "email"
    skipped = TicketMessage.objects.get(channel="whatsapp", direction="out")
    assert skipped.delivery_status == DeliveryStatus.SKIPPED
    assert proof.token in skipped.body
