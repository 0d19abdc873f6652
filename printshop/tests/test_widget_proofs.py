"""Proofs in the storefront widget: the visitor's proof cards with a preview from our origin, and
Approve / Request changes through the public page's service (same validation, finality, audit and
PERP write-back), for the visitor's own conversation only."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from integrations.tests.factories import WebChatInboxFactory
from integrations.webchat import services as webchat
from integrations.webchat.identity import new_visitor_token
from printshop import services
from printshop.models import PerpWriteBack, Proof, ProofDecision
from printshop.tests.factories import ProofFactory, make_image, make_pdf
from tickets.merges import merge_tickets
from tickets.models import InternalNote, TicketMessage, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"
ARTWORK = "art_1001_1"  # demo customer 1's artwork in the fake PERP


@pytest.fixture
def inbox():
    return WebChatInboxFactory()


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, first_name="Ana")


def start_chat(inbox, client_id="c1"):
    """A visitor's web chat: (their widget token, the ticket)."""
    visitor_id, token = new_visitor_token(inbox=inbox)
    message = webchat.post_visitor_message(
        visitor=webchat.Visitor(inbox=inbox, visitor_id=visitor_id, name="Jo"),
        body="Here is my artwork for the cards.",
        client_message_id=client_id,
    )
    return token, message.ticket


def send_proof(ticket, agent, *, data=None, name="card.png") -> Proof:
    draft = services.create_proof_from_upload(
        ticket=ticket,
        actor=agent,
        upload=SimpleUploadedFile(name, data or make_image(width=60, height=40)),
        target=services.ProofTarget(order_line="Business cards"),
    )
    return services.send_proof(proof=draft, actor=agent, message="Please check the text.")


def widget(client, method, path, inbox, *, token="", origin=ORIGIN, data=None):
    headers = {"HTTP_ORIGIN": origin, "HTTP_X_WIDGET_TOKEN": token}
    if data is None:
        return getattr(client, method)(f"/widget/{inbox.key}/{path}", **headers)
    return getattr(client, method)(
        f"/widget/{inbox.key}/{path}",
        data=json.dumps(data),
        content_type="application/json",
        **headers,
    )


def decide(client, inbox, token, proof, decision="approved", comment=""):
    return widget(
        client,
        "post",
        f"proofs/{proof.pk}/decision/",
        inbox,
        token=token,
        data={"decision": decision, "comment": comment},
    )


def test_a_sent_proof_is_a_card_of_the_visitors_conversation_only(
    client, inbox, agent, django_capture_on_commit_callbacks
):
    token, ticket = start_chat(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        proof = send_proof(ticket, agent)
    proof.refresh_from_db()
    assert proof.sent_message.channel == "web"
    response = widget(client, "get", "proofs/", inbox, token=token)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    [card] = response.json()["proofs"]
    assert card["id"] == proof.pk and card["message_id"] == proof.sent_message_id
    assert (card["version"], card["state"], card["label"]) == (1, "pending", "Business cards")
    page = f"{settings.PUBLIC_BASE_URL}/proofs/{proof.token}/"
    assert card["page_url"] == page and card["preview_url"] == f"{page}preview/"
    assert "preflight" not in card and "perp_status" not in card
    # Another visitor of the same shop sees no card of it.
    stranger, _ = start_chat(inbox, client_id="c2")
    assert widget(client, "get", "proofs/", inbox, token=stranger).json() == {"proofs": []}
    assert widget(client, "get", "proofs/", inbox, token="forged").status_code == 401
    assert (
        widget(
            client, "get", "proofs/", inbox, token=token, origin="https://evil.example"
        ).status_code
        == 403
    )


def test_the_preview_is_a_png_thumbnail_from_our_origin_for_images_and_pdfs(
    client, inbox, agent, django_capture_on_commit_callbacks
):
    _, ticket = start_chat(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        image = send_proof(ticket, agent, data=make_image(width=1600, height=1200))
        pdf = send_proof(
            ticket, agent, data=make_pdf(width_mm=85, height_mm=55, bleed_mm=3), name="c.pdf"
        )
    for proof in (image, pdf):
        proof.refresh_from_db()
        assert proof.preview_key
        response = client.get(f"/proofs/{proof.token}/preview/")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # An expired, undecided proof shows no preview, as its file.
    Proof.objects.filter(pk=pdf.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert client.get(f"/proofs/{pdf.token}/preview/").status_code == 410


def test_approving_in_the_widget_is_the_public_pages_decision(
    client, inbox, agent, fake_perp, django_capture_on_commit_callbacks
):
    token, ticket = start_chat(inbox)
    proof = ProofFactory(ticket=ticket, perp_artwork_id=ARTWORK)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, inbox, token, proof, comment="Looks great", decision="approved")
    assert response.status_code == 200, response.content
    assert response.json()["proof"]["state"] == "approved"
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.APPROVED and proof.decided_ip == "127.0.0.1"
    assert proof.decision_comment == "Looks great"
    note = InternalNote.objects.get(ticket=ticket)
    assert "approved proof v1" in note.body and "in the web chat" in note.body
    event = AnalyticsEvent.objects.get(name="proof.approved")
    assert event.properties["via"] == "web_chat"
    assert proof.perp_status == PerpWriteBack.DONE
    assert fake_perp.proof_overrides[ARTWORK]["proof_status"] == "approved"


def test_a_second_decision_is_a_clear_409_and_changes_nothing(client, inbox):
    token, ticket = start_chat(inbox)
    proof = ProofFactory(ticket=ticket)
    assert decide(client, inbox, token, proof).status_code == 200
    again = decide(client, inbox, token, proof, decision="changes_requested", comment="Wait")
    assert again.status_code == 409
    assert again.json()["code"] == "proof_decided"
    assert again["Access-Control-Allow-Origin"] == ORIGIN
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.APPROVED
    assert InternalNote.objects.filter(ticket=ticket).count() == 1


def test_changes_need_a_comment_and_an_old_version_cannot_be_decided(client, inbox, agent):
    token, ticket = start_chat(inbox)
    first = send_proof(ticket, agent)
    refused = decide(client, inbox, token, first, decision="changes_requested")
    assert refused.status_code == 400
    assert refused.json()["code"] == "comment_required"
    second = send_proof(ticket, agent)
    assert second.version == 2
    stale = decide(client, inbox, token, first)
    assert (stale.status_code, stale.json()["code"]) == (409, "proof_superseded")
    asked = decide(client, inbox, token, second, decision="changes_requested", comment="Red")
    assert asked.json()["proof"]["state"] == "changes_requested"
    assert asked.json()["proof"]["comment"] == "Red"


def test_an_expired_proof_answers_410(client, inbox):
    token, ticket = start_chat(inbox)
    proof = ProofFactory(ticket=ticket, expires_at=timezone.now() - timedelta(minutes=1))
    response = decide(client, inbox, token, proof)
    assert (response.status_code, response.json()["code"]) == (410, "proof_expired")
    [card] = widget(client, "get", "proofs/", inbox, token=token).json()["proofs"]
    assert card["state"] == "expired" and card["preview_url"] == "" and card["file_url"] == ""


def test_a_visitor_cannot_decide_another_conversations_proof(client, inbox):
    _, ticket = start_chat(inbox)
    theirs = ProofFactory(ticket=ticket)
    stranger, _ = start_chat(inbox, client_id="c2")
    elsewhere = ProofFactory()  # a proof of a ticket that is no web chat at all
    other_inbox_token = new_visitor_token(inbox=WebChatInboxFactory())[1]
    for token, proof in ((stranger, theirs), (stranger, elsewhere)):
        response = decide(client, inbox, token, proof)
        assert (response.status_code, response.json()["code"]) == (404, "proof_not_found")
    assert decide(client, inbox, other_inbox_token, theirs).status_code == 401
    assert not Proof.objects.exclude(decision=ProofDecision.PENDING).exists()


def test_a_proof_stays_the_visitors_after_their_ticket_is_merged(client, inbox):
    token, ticket = start_chat(inbox)
    proof = ProofFactory(ticket=ticket)
    target = TicketFactory(customer=ticket.customer, status=TicketStatus.OPEN)
    merge_tickets(source=ticket, target=target, actor=UserFactory(role=Role.MANAGER))
    assert TicketMessage.objects.filter(ticket=target).exists()
    cards = widget(client, "get", "proofs/", inbox, token=token).json()["proofs"]
    assert [card["id"] for card in cards] == [proof.pk]
    assert decide(client, inbox, token, proof).status_code == 200


def test_a_discarded_draft_and_an_erased_proof_lose_their_thumbnail(
    inbox, agent, django_capture_on_commit_callbacks
):
    _, ticket = start_chat(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        draft = services.create_proof_from_upload(
            ticket=ticket,
            actor=agent,
            upload=SimpleUploadedFile("x.png", make_image(width=60, height=40)),
            target=services.ProofTarget(),
        )
        sent = send_proof(ticket, agent)
    draft.refresh_from_db()
    sent.refresh_from_db()
    storage = draft.file.storage
    assert storage.exists(draft.preview_key) and storage.exists(sent.preview_key)
    with django_capture_on_commit_callbacks(execute=True):
        services.discard_proof_draft(proof=draft, actor=agent)
        services.redact_ticket_proofs(ticket_ids=[ticket.pk])
    assert not storage.exists(draft.preview_key) and not storage.exists(sent.preview_key)
    assert Proof.objects.get(pk=sent.pk).preview_key == ""
