"""The dashboard: what an agent has to do next and how the queue stands, by the one SLA clock
(`Ticket.due_at`, kept by automation's policy engine). Every count is an inbox view's count, and
its tile links to that view, so the number and the list it opens always agree."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, can
from tickets.models import Ticket
from tickets.selectors import count_label as capped_count_label
from tickets.selectors import (
    count_tickets_for_dashboard,
    list_next_due_tickets,
    list_open_load_by_assignee,
)


@dataclass(frozen=True)
class Tile:
    label: str
    count: int
    url: str
    tone: str = ""  # "danger", "warning" or "" (CSS modifier)

    @property
    def count_label(self) -> str:
        return capped_count_label(self.count)  # "999+" past the cap


@dataclass(frozen=True)
class AgentLoad:
    name: str
    open: int
    breaching: int
    overdue: int
    url: str


@dataclass(frozen=True)
class DashboardSummary:
    mine: list[Tile]
    team: list[Tile]
    today: list[Tile]
    all_open: str  # a capped count's label
    next_due: list[Ticket]
    load: list[AgentLoad]  # managers (who may assign) only


# name: (label, inbox query parameters, tone)
BREACHING_LABEL = "Breaching within 1\u00a0h"  # the no-break space keeps the unit with its number
MY_WORK = {
    "mine_overdue": ("Overdue", {"view": "mine", "sla": "overdue"}, "danger"),
    "mine_breaching": (BREACHING_LABEL, {"view": "mine", "sla": "breaching"}, "warning"),
    "mine_on_time": ("On time", {"view": "mine", "sla": "on_time"}, ""),
    "mine_waiting": ("Waiting on the customer", {"view": "mine", "status": "pending"}, ""),
    "handoffs": ("Handoffs for me", {"view": "handoffs"}, ""),
}
TEAM_QUEUE = {
    "unassigned": ("Unassigned", {"view": "unassigned"}, ""),
    "team_overdue": ("Past SLA", {"view": "open", "sla": "overdue"}, "danger"),
    "team_breaching": (BREACHING_LABEL, {"view": "open", "sla": "breaching"}, "warning"),
    "team_waiting": ("Waiting on the customer", {"view": "open", "status": "pending"}, ""),
    "escalated": ("Escalated", {"view": "escalated"}, ""),
}
ALL_OPEN = {"all_open": ("All open", {"view": "open"}, "")}


def _inbox_url(params: dict[str, str]) -> str:
    return f"/tickets/?{urlencode(params)}"


def _tiles(views: dict, counts: dict[str, int]) -> list[Tile]:
    return [
        Tile(label, counts[name], _inbox_url(params), tone if counts[name] else "")
        for name, (label, params, tone) in views.items()
    ]


def get_dashboard_summary(*, user: User, now: datetime | None = None) -> DashboardSummary | None:
    """None for someone who may not see tickets."""
    if not can(user, Action.VIEW_TICKETS):
        return None
    now = now or timezone.now()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    views = {name: params for name, (_, params, _) in (MY_WORK | TEAM_QUEUE | ALL_OPEN).items()}
    counts = count_tickets_for_dashboard(user=user, views=views, since=start_of_day)
    load = []
    if can(user, Action.ASSIGN_TICKET):
        load = [
            AgentLoad(
                name=row["assignee__display_name"] or row["assignee__username"],
                open=row["open"],
                breaching=row["breaching"],
                overdue=row["overdue"],
                url=_inbox_url({"view": "open", "assignee": str(row["assignee_id"])}),
            )
            for row in list_open_load_by_assignee(user=user, now=now)
        ]
    return DashboardSummary(
        mine=_tiles(MY_WORK, counts),
        team=_tiles(TEAM_QUEUE, counts),
        today=[
            Tile("New today", counts["opened"], _inbox_url({"view": "all", "sort": "-created"})),
            Tile("Solved today", counts["solved"], _inbox_url({"view": "all", "status": "solved"})),
        ],
        all_open=capped_count_label(counts["all_open"]),
        next_due=list_next_due_tickets(user=user),
        load=load,
    )
