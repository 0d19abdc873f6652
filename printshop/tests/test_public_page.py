"""The public proof page: no login, works as plain HTML forms, CSRF on, final decisions."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from printshop.models import ProofDecision
from printshop.tests.factories import ProofFactory
from tickets.models import InternalNote

pytestmark = pytest.mark.django_db


def page(proof) -> str:
    return f"/proofs/{proof.token}/"


def test_the_page_shows_the_proof_without_login(client):
    proof = ProofFactory(message="Your business cards", version=2)
    response = client.get(page(proof))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Version 2" in html and "Your business cards" in html
    assert f'src="/proofs/{proof.token}/file/"' in html
    assert 'name="decision" value="approved"' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # same-origin, not no-referrer: with no-referrer browsers post `Origin: null` (CSRF fails).
    assert response["Referrer-Policy"] == "same-origin"


def test_a_pdf_proof_links_the_file():
    proof = ProofFactory(content_type="application/pdf", file_name="card.pdf")
    html = Client().get(page(proof)).content.decode()
    assert "Open the proof (PDF)" in html


def test_approving_redirects_and_a_second_click_shows_the_decision(client):
    proof = ProofFactory()
    response = client.post(
        page(proof), {"decision": "approved", "comment": "Perfect"}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302 and response["Location"] == page(proof)
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.APPROVED and proof.decided_ip == "198.51.100.7"
    # The customer clicks again (or the other button): nothing changes, the decision shows.
    again = client.post(page(proof), {"decision": "changes_requested", "comment": "Wait"})
    assert again.status_code == 200
    assert "You approved this proof" in again.content.decode()
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.APPROVED
    assert InternalNote.objects.filter(ticket=proof.ticket).count() == 1
    assert "You approved this proof" in client.get(page(proof)).content.decode()


def test_the_recorded_address_is_the_client_behind_the_trusted_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proof = ProofFactory()
    client.post(
        page(proof),
        {"decision": "approved"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.50",
    )
    proof.refresh_from_db()
    assert proof.decided_ip == "203.0.113.50"


def test_requesting_changes_without_a_comment_shows_the_form_again(client):
    proof = ProofFactory()
    response = client.post(page(proof), {"decision": "changes_requested", "comment": ""})
    assert response.status_code == 400
    assert "Tell us what to change." in response.content.decode()
    response = client.post(
        page(proof), {"decision": "changes_requested", "comment": "Red, not blue"}
    )
    assert response.status_code == 302
    html = client.get(page(proof)).content.decode()
    assert "You asked for changes" in html and "Red, not blue" in html


def test_csrf_is_enforced():
    proof = ProofFactory()
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(page(proof), {"decision": "approved"})
    assert response.status_code == 403
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.PENDING
    form = csrf_client.get(page(proof))
    token = form.cookies["csrftoken"].value
    response = csrf_client.post(page(proof), {"decision": "approved", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_expired_link_shows_a_clear_page_and_no_file(client):
    proof = ProofFactory(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(page(proof))
    assert response.status_code == 410
    assert "This proof link has expired" in response.content.decode()
    assert client.post(page(proof), {"decision": "approved"}).status_code == 410
    proof.refresh_from_db()
    assert proof.decision == ProofDecision.PENDING
    assert client.get(f"{page(proof)}file/").status_code == 410


def test_unknown_tokens_and_drafts_are_404(client):
    assert client.get("/proofs/nope/").status_code == 404
    assert client.get("/proofs/nope/file/").status_code == 404
    assert client.get("/proofs/%00" + "a" * 40 + "/").status_code == 404
    draft = ProofFactory(sent_at=None, version=None)
    assert client.get(page(draft)).status_code == 404
    assert client.get(f"{page(draft)}file/").status_code == 404


def test_superseded_versions_stay_viewable_and_point_to_the_newest(client):
    old = ProofFactory(is_superseded=True, superseded_at=timezone.now())
    new = ProofFactory(
        ticket=old.ticket, order_line=old.order_line, line_key=old.line_key, version=2
    )
    html = client.get(page(old)).content.decode()
    assert "A newer version of this proof was sent" in html
    assert page(new) in html
    assert 'name="decision"' not in html
    assert client.post(page(old), {"decision": "approved"}).status_code == 200
    old.refresh_from_db()
    assert old.decision == ProofDecision.PENDING


def test_the_file_is_served_through_the_token_with_its_sniffed_type(client):
    proof = ProofFactory()
    response = client.get(f"{page(proof)}file/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    pdf = ProofFactory(content_type="application/pdf")
    assert client.get(f"{page(pdf)}file/")["Content-Type"] == "application/pdf"
