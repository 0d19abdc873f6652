from dataclasses import dataclass

from accounts.models import User
from tickets.selectors import count_tickets_for_dashboard


@dataclass(frozen=True)
class DashboardSummary:
    mine_open: int
    unassigned: int
    all_open: int
    escalated: int
    overdue: int
    handoffs_to_me: int


def get_dashboard_summary(*, user: User) -> DashboardSummary:
    counts = count_tickets_for_dashboard(user=user)
    return DashboardSummary(**counts)
