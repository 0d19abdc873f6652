"""Background work of the analytics app."""

from django_tasks import task

from analytics.rollups import refresh_dirty_rollups
from analytics.services import send_csat_survey_now
from core import queues


@task(queue_name=queues.DEFAULT)
def send_csat_survey(*, ticket_id: int) -> str:
    """Create and send the CSAT survey of a solved ticket (enqueued with a delay)."""
    survey = send_csat_survey_now(ticket_id=ticket_id)
    return "sent" if survey is not None else "skipped"


@task(queue_name=queues.BULK)
def refresh_analytics_rollups() -> str:
    """Recompute the rollup days of what the subscribers marked dirty (analytics.rollups)."""
    return f"days={refresh_dirty_rollups()}"
