"""Background work for print-shop workflows."""

from django.utils import timezone
from django_tasks import task

from core import queues
from printshop.services import write_back_proof_decision


@task(queue_name=queues.REALTIME)
def write_back_proof_decision_task(*, proof_id: int) -> str:
    """Write a customer's proof decision to PERP; PERP being down re-enqueues with backoff.

    A backend that cannot defer (the immediate one in tests) runs the retry at once.
    """
    result = write_back_proof_decision(proof_id=proof_id)
    if result.retry_in is not None:
        retry = write_back_proof_decision_task
        if retry.get_backend().supports_defer:
            retry = retry.using(run_after=timezone.now() + result.retry_in)
        retry.enqueue(proof_id=proof_id)
    return result.status
