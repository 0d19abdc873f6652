"""Analytics reads: the CSAT survey lookup and every report metric.

Each metric has exactly one function here and one entry in docs/metrics.md; the page, the CSV
exports and the API all call these, so they show the same numbers. Every function runs a fixed
number of queries whatever the date range: counts are grouped in SQL, percentiles use
PERCENTILE_CONT on PostgreSQL and one ordered values query elsewhere.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import (
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractMinute,
    ExtractSecond,
    Greatest,
    Least,
    Mod,
    TruncDate,
)
from django.db.models.lookups import Exact, In
from django.utils import timezone

from accounts.models import Team, User
from analytics.conf import business_hours
from analytics.models import AnalyticsEvent, ConversationLog, CustomerSatisfaction
from tickets.models import MessageDirection, Ticket, TicketMessage, TicketStatus

SATISFIED_MIN = 4


def list_teams() -> QuerySet:
    return Team.objects.order_by("name")


def get_survey_by_token(*, token: str) -> CustomerSatisfaction | None:
    return CustomerSatisfaction.objects.select_related("ticket").filter(token=token).first()


def list_ticket_surveys(*, ticket_ids: Iterable[int]) -> list[CustomerSatisfaction]:
    """The surveys sent on these tickets (at most one per ticket), with their tickets."""
    return list(
        CustomerSatisfaction.objects.select_related("ticket")
        .filter(ticket_id__in=list(ticket_ids), sent_at__isnull=False)
        .order_by("sent_at", "pk")
    )


# Filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    """A report's scope: whole days `date_from`..`date_to` (inclusive) in TIME_ZONE."""

    date_from: date
    date_to: date
    channel: str = ""
    team_id: int | None = None
    # A ticket custom field and its canonical value (`field=key:value`), checked by the parser.
    field_key: str = ""
    field_value: str = ""

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        next_day = self.date_to + timedelta(days=1)
        return datetime.combine(next_day, time.min, tzinfo=timezone.get_current_timezone())

    def days(self) -> list[date]:
        return [
            self.date_from + timedelta(days=i)
            for i in range((self.date_to - self.date_from).days + 1)
        ]

    def scope(self, prefix: str = "") -> Q:
        """Channel, team and custom field conditions on the ticket reached through `prefix`."""
        q = Q()
        if self.channel:
            q &= Q(**{f"{prefix}channel": self.channel})
        if self.team_id:
            q &= Q(**{f"{prefix}team_id": self.team_id})
        if self.field_key:
            q &= Q(**{f"{prefix}custom_fields__{self.field_key}": self.field_value})
        return q


# SQL helpers -----------------------------------------------------------------------------------


class DurationSeconds(Func):
    """Seconds from `start` to `end` as a float, on SQLite and PostgreSQL."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sqlite(self, compiler, conn, **extra):
        template = "((julianday(%(expressions)s)) * 86400.0)"
        return self.as_sql(compiler, conn, template=template, arg_joiner=") - julianday(", **extra)

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(
            compiler, conn, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - "
        )


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (interpolated), e.g. 0.5 for the median."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


def _whole(seconds: float | None) -> int | None:
    # julianday() arithmetic on SQLite is off by microseconds; report whole seconds everywhere.
    return None if seconds is None else round(seconds)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """PERCENTILE_CONT over an ascending list: linear interpolation between closest ranks."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _median_p90(queryset: QuerySet, expression) -> tuple[int, int | None, int | None]:
    """Count, median and p90 of `expression` over `queryset`, in one query."""
    queryset = queryset.annotate(_value=expression).filter(_value__isnull=False)
    if connection.vendor == "postgresql":
        result = queryset.aggregate(
            count=Count("pk"),
            median=PercentileCont("_value", 0.5),
            p90=PercentileCont("_value", 0.9),
        )
        return result["count"], _whole(result["median"]), _whole(result["p90"])
    values = list(queryset.order_by("_value").values_list("_value", flat=True))
    return len(values), _whole(percentile(values, 0.5)), _whole(percentile(values, 0.9))


def _grouped_median(queryset: QuerySet, group: str, expression) -> dict[Any, float | None]:
    """Median of `expression` per value of `group`, in one query."""
    queryset = queryset.annotate(_value=expression).filter(_value__isnull=False)
    if connection.vendor == "postgresql":
        rows = queryset.values(group).annotate(median=PercentileCont("_value", 0.5))
        return {row[group]: _whole(row["median"]) for row in rows.order_by()}
    grouped: dict[Any, list[float]] = defaultdict(list)
    for key, value in queryset.order_by(group, "_value").values_list(group, "_value"):
        grouped[key].append(value)
    return {key: _whole(percentile(values, 0.5)) for key, values in grouped.items()}


def _frt_seconds() -> DurationSeconds:
    return DurationSeconds(F("first_response_at"), F("created_at"))


# Business hours --------------------------------------------------------------------------------


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class DaysSinceEpoch(Func):
    """Whole days from Monday 3 January 2000 to a date expression (so `% 7` is the weekday)."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, conn, **extra):
        template = "CAST(julianday(%(expressions)s) - julianday('2000-01-03') AS INTEGER)"
        return self.as_sql(compiler, conn, template=template, **extra)

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="(%(expressions)s - DATE '2000-01-03')")


def _business_clock(field: str):
    """Business seconds from Monday 3 January 2000 to `field`, as an SQL expression.

    BUSINESS_HOURS are wall-clock times in TIME_ZONE on the listed weekdays: whole weeks count
    `weekly` seconds, the days of the current week before today count a full business day each
    when they are business days, and today counts the part of its opening hours already gone.
    A business duration is the difference of two readings. Holidays are not modelled.
    """
    hours = business_hours()
    weekdays = sorted(set(hours["weekdays"]))
    opens, closes = _clock(hours["start"]), _clock(hours["end"])
    opens_at, closes_at = (
        opens.hour * 3600 + opens.minute * 60,
        closes.hour * 3600 + closes.minute * 60,
    )
    day_length = max(0, closes_at - opens_at)
    tz = timezone.get_current_timezone()
    day = DaysSinceEpoch(TruncDate(field, tzinfo=tz))
    weekday = Mod(day, 7)
    clock = (
        ExtractHour(field, tzinfo=tz) * 3600
        + ExtractMinute(field, tzinfo=tz) * 60
        + ExtractSecond(field, tzinfo=tz)
    )
    earlier_days = Case(
        *(
            When(Exact(weekday, k), then=Value(sum(1 for d in weekdays if d < k) * day_length))
            for k in range(7)
        ),
        output_field=FloatField(),
    )
    today = Case(
        When(
            In(weekday, weekdays),
            then=Least(Greatest(clock, Value(opens_at)), Value(closes_at)) - Value(opens_at),
        ),
        default=Value(0),
        output_field=FloatField(),
    )
    weeks = (day - weekday) / 7
    return weeks * (day_length * len(weekdays)) + earlier_days + today


def business_seconds(*, start: str, end: str):
    """Business seconds from datetime field `start` to `end`, as an SQL expression."""
    return Greatest(
        _business_clock(end) - _business_clock(start), Value(0.0), output_field=FloatField()
    )


# Metrics ---------------------------------------------------------------------------------------


def _created_tickets(filters: ReportFilters) -> QuerySet:
    return Ticket.objects.filter(
        filters.scope(), created_at__gte=filters.start, created_at__lt=filters.end
    )


def _solved_logs(filters: ReportFilters) -> QuerySet:
    return ConversationLog.objects.filter(
        filters.scope("ticket__"), solved_at__gte=filters.start, solved_at__lt=filters.end
    )


def _sent_surveys(filters: ReportFilters) -> QuerySet:
    return CustomerSatisfaction.objects.filter(
        filters.scope("ticket__"), sent_at__gte=filters.start, sent_at__lt=filters.end
    )


def list_volume_by_day(*, filters: ReportFilters) -> list[dict]:
    """Tickets created per local day and channel: [{"day", "channel", "count"}], sparse."""
    rows = (
        _created_tickets(filters)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "channel")
        .annotate(count=Count("pk"))
        .order_by("day", "channel")
    )
    return list(rows)


def get_first_response_times(*, filters: ReportFilters) -> dict:
    """FRT of tickets created in range that have a first response, in seconds.

    `Ticket.first_response_at` is written once, by `reply_to_ticket`, for the first outbound
    message a person wrote: internal notes and automated messages never set it. Calendar time
    in SQL; business-hours time from one (created, first response) values query.
    """
    tickets = _created_tickets(filters).filter(first_response_at__isnull=False)
    count, median, p90 = _median_p90(tickets, _frt_seconds())
    _, business_median, business_p90 = _median_p90(
        tickets, business_seconds(start="created_at", end="first_response_at")
    )
    return {
        "count": count,
        "median_seconds": median,
        "p90_seconds": p90,
        "business_median_seconds": business_median,
        "business_p90_seconds": business_p90,
    }


def get_resolution_times(*, filters: ReportFilters) -> dict:
    """Full resolution time (creation to final solve) of tickets solved in range, in seconds."""
    count, median, p90 = _median_p90(_solved_logs(filters), F("resolution_seconds"))
    return {"count": count, "median_seconds": median, "p90_seconds": p90}


def get_reopen_rate(*, filters: ReportFilters) -> dict:
    """Share of tickets solved in range that were reopened at least once before that solve."""
    counts = _solved_logs(filters).aggregate(
        solved=Count("pk"), reopened=Count("pk", filter=Q(reopen_count__gt=0))
    )
    return {**counts, "rate": _ratio(counts["reopened"], counts["solved"])}


def get_csat(*, filters: ReportFilters) -> dict:
    """CSAT of surveys sent in range: score = % of answers rating 4-5; response rate."""
    counts = _sent_surveys(filters).aggregate(
        sent=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_MIN)),
        **{f"rating_{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)},
    )
    return {
        **counts,
        "score": _ratio(counts["satisfied"], counts["answered"]),
        "response_rate": _ratio(counts["answered"], counts["sent"]),
    }


def list_csat_answers(*, filters: ReportFilters, limit: int | None = None) -> list[dict]:
    """Answers to surveys sent in range, lowest rating first, then newest."""
    rows = (
        _sent_surveys(filters)
        .filter(answered_at__isnull=False)
        .order_by("rating", "-answered_at", "-pk")
        .values(
            "rating",
            "comment",
            "answered_at",
            "channel",
            reference=F("ticket__reference"),
            assignee_name=F("ticket__assignee__username"),
        )
    )
    return list(rows[:limit] if limit else rows)


def sla_breached(*, now: datetime | None) -> Q:
    """A ticket breached its SLA if it was answered or resolved after `due_at`, or is still
    unresolved past it. `now=None` judges deadlines that are all past (the daily rollups of days
    that are over): there every ticket still unresolved has breached."""
    still_open = Q(status__in=TicketStatus.OPEN_STATES)
    if now is not None:
        still_open &= Q(due_at__lt=now)
    return (
        Q(first_response_at__gt=F("due_at"))
        | Q(resolved_at__gt=F("due_at"))
        | Q(resolved_at__isnull=True, closed_at__gt=F("due_at"))
        | still_open
    )


def _breached() -> Q:
    return sla_breached(now=timezone.now())


def _due_tickets(filters: ReportFilters) -> QuerySet:
    """Tickets whose SLA deadline falls in range (and has passed)."""
    return Ticket.objects.filter(
        filters.scope(),
        due_at__gte=filters.start,
        due_at__lt=min(filters.end, timezone.now()),
    )


def get_sla_breaches(*, filters: ReportFilters) -> dict:
    """Tickets due in range, and how many of them breached."""
    counts = _due_tickets(filters).aggregate(
        due=Count("pk"), breached=Count("pk", filter=_breached())
    )
    return {**counts, "rate": _ratio(counts["breached"], counts["due"])}


def list_sla_breaches(*, filters: ReportFilters, limit: int | None = None) -> list[dict]:
    """The breached tickets, earliest deadline first."""
    rows = (
        _due_tickets(filters)
        .filter(_breached())
        .order_by("due_at", "pk")
        .values(
            "reference",
            "subject",
            "channel",
            "priority",
            "status",
            "due_at",
            "first_response_at",
            "resolved_at",
            assignee_name=F("assignee__username"),
        )
    )
    return list(rows[:limit] if limit else rows)


def count_backlog_by_status(*, filters: ReportFilters) -> list[dict]:
    """Unresolved tickets now, per status (a snapshot: the date range does not apply)."""
    rows = (
        Ticket.objects.filter(filters.scope(), status__in=TicketStatus.OPEN_STATES)
        .values("status")
        .annotate(count=Count("pk"))
    )
    counts = {row["status"]: row["count"] for row in rows}
    return [
        {"status": status, "count": counts.get(status, 0)} for status in TicketStatus.OPEN_STATES
    ]


def list_agent_stats(*, filters: ReportFilters) -> list[dict]:
    """Per assignee: tickets created in range assigned to them, tickets they solved in range,
    their median FRT and CSAT score on surveys sent in range."""
    assigned = dict(
        _created_tickets(filters)
        .filter(assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    solved = dict(
        _solved_logs(filters)
        .filter(assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    frt = _grouped_median(
        _created_tickets(filters).filter(assignee__isnull=False), "assignee", _frt_seconds()
    )
    csat = {
        row["ticket__assignee"]: row
        for row in _sent_surveys(filters)
        .filter(ticket__assignee__isnull=False)
        .values("ticket__assignee")
        .annotate(
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_MIN)),
        )
        .order_by()
    }
    ids = set(assigned) | set(solved) | set(frt) | set(csat)
    users = User.objects.filter(pk__in=ids).order_by("username")
    return [
        {
            "agent_id": user.pk,
            "agent": user.username,
            "name": str(user),
            "assigned": assigned.get(user.pk, 0),
            "solved": solved.get(user.pk, 0),
            "median_frt_seconds": frt.get(user.pk),
            "csat_answered": csat.get(user.pk, {}).get("answered", 0),
            "csat_score": _ratio(
                csat.get(user.pk, {}).get("satisfied", 0), csat.get(user.pk, {}).get("answered", 0)
            ),
        }
        for user in users
    ]


def get_busiest_hours(*, filters: ReportFilters) -> list[list[int]]:
    """Customer messages received in range by local weekday (rows, Monday first) and hour."""
    tz = timezone.get_current_timezone()
    rows = (
        TicketMessage.objects.filter(
            filters.scope("ticket__"),
            direction=MessageDirection.INBOUND,
            created_at__gte=filters.start,
            created_at__lt=filters.end,
        )
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=tz),
            hour=ExtractHour("created_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(count=Count("pk"))
        .order_by()
    )
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = row["count"]
    return grid


def get_summary(*, filters: ReportFilters) -> dict:
    """The KPI tiles: one dict built from the metric functions above."""
    volume = list_volume_by_day(filters=filters)
    return {
        "from": filters.date_from,
        "to": filters.date_to,
        "tickets_created": sum(row["count"] for row in volume),
        "first_response": get_first_response_times(filters=filters),
        "resolution": get_resolution_times(filters=filters),
        "reopens": get_reopen_rate(filters=filters),
        "csat": get_csat(filters=filters),
        "sla": get_sla_breaches(filters=filters),
        "backlog": sum(row["count"] for row in count_backlog_by_status(filters=filters)),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def list_customer_csat_answers(*, customer_ids: list[int]) -> list[dict]:
    """The customer's survey answers, for a data request (docs/privacy.md)."""
    return [
        {
            "ticket": s.ticket.reference,
            "rating": s.rating,
            "comment": s.comment,
            "answered_at": s.answered_at.isoformat() if s.answered_at else None,
        }
        for s in CustomerSatisfaction.objects.select_related("ticket")
        .filter(customer_id__in=customer_ids, answered_at__isnull=False)
        .order_by("answered_at", "pk")
    ]


def list_order_remedies(*, filters: ReportFilters) -> list[dict]:
    """Reprints and refunds by product and reason (docs/metrics.md), from the `order.reprint`
    and `order.refund` events that Shopify order actions record; most remedies first."""
    events = AnalyticsEvent.objects.filter(
        filters.scope("ticket__"),
        name__in=("order.reprint", "order.refund"),
        created_at__gte=filters.start,
        created_at__lt=filters.end,
    ).values_list("name", "properties")
    groups: dict[tuple[str, str], dict] = {}
    for name, props in events:
        key = (str(props.get("product") or "—"), str(props.get("reason") or "—"))
        row = groups.setdefault(
            key,
            {
                "product": key[0],
                "reason": key[1],
                "reprints": 0,
                "reprinted_items": 0,
                "refunds": 0,
                "refunded": Decimal("0"),
                "currency": "",
            },
        )
        if name == "order.reprint":
            row["reprints"] += 1
            row["reprinted_items"] += int(props.get("quantity") or 0)
        else:
            row["refunds"] += 1
            row["refunded"] += Decimal(str(props.get("amount") or "0"))
            row["currency"] = row["currency"] or str(props.get("currency") or "")
    return sorted(
        groups.values(), key=lambda r: (-(r["reprints"] + r["refunds"]), r["product"], r["reason"])
    )
