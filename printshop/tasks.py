"""Background work for print-shop workflows."""

from django_tasks import task

from core import queues
from core.tasks import retry_later
from printshop.services import store_proof_preview, write_back_proof_decision


@task(queue_name=queues.REALTIME)
def write_back_proof_decision_task(*, proof_id: int) -> str:
    """Write a customer's proof decision to PERP; PERP being down re-enqueues with backoff.

    A backend that cannot defer (the immediate one in tests) runs the retry at once.
    """
    result = write_back_proof_decision(proof_id=proof_id)
    retry_later(write_back_proof_decision_task, retry_in=result.retry_in, proof_id=proof_id)
    return result.status


@task(queue_name=queues.DEFAULT)
def generate_proof_preview_task(*, proof_id: int) -> str:
    """Draw a new proof's thumbnail for the storefront widget's card."""
    return store_proof_preview(proof_id=proof_id)
