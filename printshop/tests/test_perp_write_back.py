"""Proofs from PERP artwork, and decisions written back to PERP (the fake server) with retries."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import ApplicationError, NotFound
from printshop import services
from printshop.models import PerpWriteBack, ProofSource
from printshop.tasks import write_back_proof_decision_task
from printshop.tests.factories import ProofFactory
from tickets.models import IdentityKind, InternalNote, TicketStatus
from tickets.tests.factories import CustomerFactory, CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db

# Demo customer 1 owns order #1001 = PD-ORD-1001 with artwork art_1001_1 (integrations/fakes).
ARTWORK = "art_1001_1"


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, username="ana")


@pytest.fixture
def ticket():
    customer = CustomerFactory(name="Demo Customer 1", perp_customer_id="CUST-00001")
    CustomerIdentityFactory(
        customer=customer, kind=IdentityKind.EMAIL, value="demo.customer.1@example.com"
    )
    return TicketFactory(customer=customer, status=TicketStatus.OPEN)


def approvals(fake) -> list[dict]:
    return [r for r in fake.requests if r["method"] == "POST"]


def test_a_proof_from_perp_artwork_is_fetched_sniffed_and_preflighted(fake_perp, ticket, agent):
    proof = services.create_proof_from_perp(
        ticket=ticket, actor=agent, artwork_id=ARTWORK, print_size=None
    )
    assert proof.source == ProofSource.PERP
    assert proof.perp_artwork_id == ARTWORK and proof.order_line == ARTWORK
    assert proof.order_number.startswith("PD-ORD-")
    assert proof.content_type == "application/pdf"
    assert proof.preflight["details"]["bleed_mm"] == 3.0
    assert proof.file.read().startswith(b"%PDF-")
    paths = [r["path"] for r in fake_perp.requests]
    assert f"/artwork/{ARTWORK}/file" in paths


def test_unknown_artwork_or_another_customers_artwork_is_refused(fake_perp, ticket, agent):
    with pytest.raises(NotFound):
        services.create_proof_from_perp(
            ticket=ticket, actor=agent, artwork_id="art_999999_1", print_size=None
        )
    stranger = TicketFactory(customer=CustomerFactory(perp_customer_id="CUST-00002"))
    with pytest.raises(ApplicationError) as exc:
        services.create_proof_from_perp(
            ticket=stranger, actor=agent, artwork_id=ARTWORK, print_size=None
        )
    assert exc.value.code == "artwork_not_customers"


def test_perp_down_while_fetching_is_a_clear_error(fake_perp, ticket, agent):
    fake_perp.is_down = True
    with pytest.raises(ApplicationError) as exc:
        services.create_proof_from_perp(
            ticket=ticket, actor=agent, artwork_id=ARTWORK, print_size=None
        )
    assert (exc.value.code, exc.value.status) == ("perp_unavailable", 502)


def test_approval_is_written_to_perp(fake_perp, ticket, agent, django_capture_on_commit_callbacks):
    proof = services.send_proof(
        proof=services.create_proof_from_perp(
            ticket=ticket, actor=agent, artwork_id=ARTWORK, print_size=None
        ),
        actor=agent,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_proof(token=proof.token, decision="approved", comment="Go")
    proof.refresh_from_db()
    assert proof.perp_status == PerpWriteBack.DONE
    assert proof.perp_attempts == 1 and proof.perp_synced_at is not None
    assert fake_perp.proof_overrides[ARTWORK]["proof_status"] == "approved"
    [call] = approvals(fake_perp)
    assert call["path"] == f"/artwork/{ARTWORK}/approve"
    assert ticket.reference in call["body"]


def test_requested_changes_are_written_to_perp_as_a_rejection(
    fake_perp, ticket, django_capture_on_commit_callbacks
):
    proof = ProofFactory(ticket=ticket, perp_artwork_id=ARTWORK)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_proof(token=proof.token, decision="changes_requested", comment="Bigger")
    assert fake_perp.proof_overrides[ARTWORK] == {
        "proof_status": "changes_requested",
        "note": "Bigger",
    }


def test_perp_down_is_retried_until_it_answers(
    fake_perp, ticket, django_capture_on_commit_callbacks
):
    proof = ProofFactory(ticket=ticket, perp_artwork_id=ARTWORK)
    fake_perp.fail_next(2, status=503)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_proof(token=proof.token, decision="approved")
    proof.refresh_from_db()
    assert proof.perp_status == PerpWriteBack.DONE
    assert proof.perp_attempts == 3
    assert len(approvals(fake_perp)) == 3
    assert fake_perp.proof_overrides[ARTWORK]["proof_status"] == "approved"


def test_perp_down_for_good_fails_with_a_timeline_note_and_staff_can_retry(
    fake_perp, ticket, agent, settings, django_capture_on_commit_callbacks
):
    settings.PRINTSHOP_PERP_WRITEBACK_ATTEMPTS = 3
    proof = ProofFactory(ticket=ticket, perp_artwork_id=ARTWORK)
    fake_perp.is_down = True
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_proof(token=proof.token, decision="approved")
    proof.refresh_from_db()
    assert proof.perp_status == PerpWriteBack.FAILED
    assert proof.perp_attempts == 3 and "503" in proof.perp_error
    assert InternalNote.objects.filter(ticket=ticket, body__startswith="PERP was not told").exists()
    fake_perp.is_down = False
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_perp_write_back(proof=proof, actor=agent)
    proof.refresh_from_db()
    assert proof.perp_status == PerpWriteBack.DONE and proof.perp_error == ""


def test_perp_refusing_is_not_retried(fake_perp, ticket, django_capture_on_commit_callbacks):
    proof = ProofFactory(ticket=ticket, perp_artwork_id="art_999999_1")
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_proof(token=proof.token, decision="approved")
    proof.refresh_from_db()
    assert proof.perp_status == PerpWriteBack.FAILED
    assert proof.perp_attempts == 1 and proof.perp_error.startswith("not_found")


def test_a_duplicate_task_run_writes_nothing_twice(fake_perp, ticket):
    proof = ProofFactory(ticket=ticket, perp_artwork_id=ARTWORK)
    services.decide_proof(token=proof.token, decision="approved")
    write_back_proof_decision_task.enqueue(proof_id=proof.pk)
    write_back_proof_decision_task.enqueue(proof_id=proof.pk)
    assert len(approvals(fake_perp)) == 1
