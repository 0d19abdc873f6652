"""Report reads for the page, the CSV exports and the API: from the daily rollups when they can
answer, live (analytics.selectors) when they cannot (docs/metrics.md, "Rollups").

`get_report(filters=...)` returns an object with one method per figure; `LiveReport` forwards to
the selectors, `RollupReport` reads a few grouped queries over `DailyRollup`/`RollupBucket`
whatever the range, and the backlog from `BacklogCount`. Counts equal the live ones; medians and
p90s are estimated from the duration buckets (analytics.histograms: within a factor 2^(1/8)).
Live in both: SLA deadlines falling today (they depend on the clock) and the row lists (SLA
breaches, survey answers, reprints and refunds), indexed range reads of at most a page on the
page (the CSV of a list has every row).
"""

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date
from functools import cached_property

from django.db.models import Q, Sum, Value
from django.utils import timezone

from accounts.models import User
from analytics import selectors
from analytics.histograms import estimate_percentile
from analytics.models import (
    BacklogCount,
    DailyRollup,
    RollupBucket,
    RollupCoverage,
    RollupMetric,
)
from analytics.rollups import COUNT_FIELDS
from analytics.selectors import SATISFIED_MIN, ReportFilters
from tickets.models import TicketStatus

DURATION_METRICS = [
    RollupMetric.FIRST_RESPONSE,
    RollupMetric.FIRST_RESPONSE_BUSINESS,
    RollupMetric.RESOLUTION,
]
LIVE_FIELD_FILTER = "a custom field filter cannot use the daily rollups"
LIVE_NOT_COVERED = "the daily rollups do not cover this range yet (rebuild_analytics_rollups)"


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class LiveReport:
    """Every figure computed from the source tables (exact percentiles)."""

    is_rollup = False

    def __init__(self, filters: ReportFilters, reason: str) -> None:
        self.filters = filters
        self.reason = reason

    def summary(self) -> dict:
        return selectors.get_summary(filters=self.filters)

    def volume_by_day(self) -> list[dict]:
        return selectors.list_volume_by_day(filters=self.filters)

    def first_response_times(self) -> dict:
        return selectors.get_first_response_times(filters=self.filters)

    def resolution_times(self) -> dict:
        return selectors.get_resolution_times(filters=self.filters)

    def reopen_rate(self) -> dict:
        return selectors.get_reopen_rate(filters=self.filters)

    def csat(self) -> dict:
        return selectors.get_csat(filters=self.filters)

    def sla_breaches(self) -> dict:
        return selectors.get_sla_breaches(filters=self.filters)

    def backlog_by_status(self) -> list[dict]:
        return selectors.count_backlog_by_status(filters=self.filters)

    def agent_stats(self) -> list[dict]:
        return selectors.list_agent_stats(filters=self.filters)

    def busiest_hours(self) -> list[list[int]]:
        return selectors.get_busiest_hours(filters=self.filters)


class RollupReport:
    """Figures from the daily rollups: three grouped queries, loaded once and shared."""

    is_rollup = True
    reason = ""

    def __init__(self, filters: ReportFilters) -> None:
        self.filters = filters
        self.today = timezone.localdate()

    def _rollups(self, model):
        q = Q(day__gte=self.filters.date_from, day__lte=self.filters.date_to)
        if self.filters.channel:
            q &= Q(channel=self.filters.channel)
        if self.filters.team_id:
            q &= Q(team_id=self.filters.team_id)
        return model.objects.filter(q)

    @cached_property
    def _totals(self) -> dict[str, int]:
        """Every count summed over the range in SQL; today's SLA deadlines are read live."""
        past = Q(day__lt=self.today)
        sums = {
            name: Sum(name, filter=past) if name.startswith("sla_") else Sum(name)
            for name in COUNT_FIELDS
        }
        totals = self._rollups(DailyRollup).aggregate(**sums)
        return {name: value or 0 for name, value in totals.items()}

    @cached_property
    def _durations(self) -> dict[tuple[str, int | None], Counter]:
        """Histogram per (metric, assignee): assignee None sums over everyone."""
        rows = (
            self._rollups(RollupBucket)
            .filter(metric__in=DURATION_METRICS)
            .values_list("metric", "assignee_id", "bucket")
            .annotate(n=Sum("count"))
            .order_by()
        )
        histograms: dict[tuple[str, int | None], Counter] = defaultdict(Counter)
        for metric, assignee, bucket, n in rows:
            histograms[metric, None][bucket] += n
            if assignee is not None:
                histograms[metric, assignee][bucket] += n
        return histograms

    def _percentiles(self, metric: str) -> tuple[int | None, int | None]:
        histogram = self._durations.get((metric, None), Counter())
        return (
            _whole(estimate_percentile(histogram, 0.5)),
            _whole(estimate_percentile(histogram, 0.9)),
        )

    def summary(self) -> dict:
        return {
            "from": self.filters.date_from,
            "to": self.filters.date_to,
            "tickets_created": self._totals["tickets_created"],
            "first_response": self.first_response_times(),
            "resolution": self.resolution_times(),
            "reopens": self.reopen_rate(),
            "csat": self.csat(),
            "sla": self.sla_breaches(),
            "backlog": sum(row["count"] for row in self.backlog_by_status()),
        }

    def volume_by_day(self) -> list[dict]:
        return list(
            self._rollups(DailyRollup)
            .values("day", "channel")
            .annotate(count=Sum("tickets_created"))
            .filter(count__gt=0)
            .order_by("day", "channel")
        )

    def first_response_times(self) -> dict:
        median, p90 = self._percentiles(RollupMetric.FIRST_RESPONSE)
        business_median, business_p90 = self._percentiles(RollupMetric.FIRST_RESPONSE_BUSINESS)
        return {
            "count": self._totals["first_responses"],
            "median_seconds": median,
            "p90_seconds": p90,
            "business_median_seconds": business_median,
            "business_p90_seconds": business_p90,
        }

    def resolution_times(self) -> dict:
        histogram = self._durations.get((RollupMetric.RESOLUTION, None), Counter())
        median, p90 = self._percentiles(RollupMetric.RESOLUTION)
        return {"count": sum(histogram.values()), "median_seconds": median, "p90_seconds": p90}

    def reopen_rate(self) -> dict:
        solved, reopened = self._totals["tickets_solved"], self._totals["tickets_reopened"]
        return {"solved": solved, "reopened": reopened, "rate": _ratio(reopened, solved)}

    def csat(self) -> dict:
        totals = self._totals
        ratings = {f"rating_{n}": totals[f"rating_{n}"] for n in range(1, 6)}
        satisfied = sum(totals[f"rating_{n}"] for n in range(SATISFIED_MIN, 6))
        sent, answered = totals["surveys_sent"], totals["surveys_answered"]
        return {
            "sent": sent,
            "answered": answered,
            "satisfied": satisfied,
            **ratings,
            "score": _ratio(satisfied, answered),
            "response_rate": _ratio(answered, sent),
        }

    def sla_breaches(self) -> dict:
        due, breached = self._totals["sla_due"], self._totals["sla_breached"]
        if self.filters.date_from <= self.today <= self.filters.date_to:
            today = selectors.get_sla_breaches(
                filters=replace(self.filters, date_from=self.today, date_to=self.today)
            )
            due, breached = due + today["due"], breached + today["breached"]
        return {"due": due, "breached": breached, "rate": _ratio(breached, due)}

    @cached_property
    def _backlog(self) -> list[dict]:
        q = Q()
        if self.filters.channel:
            q &= Q(channel=self.filters.channel)
        if self.filters.team_id:
            q &= Q(team_id=self.filters.team_id)
        counts = dict(
            BacklogCount.objects.filter(q).values_list("status").annotate(n=Sum("count")).order_by()
        )
        return [
            {"status": status, "count": counts.get(status, 0)}
            for status in TicketStatus.OPEN_STATES
        ]

    def backlog_by_status(self) -> list[dict]:
        return self._backlog

    def agent_stats(self) -> list[dict]:
        per_agent = {
            row["assignee_id"]: row
            for row in self._rollups(DailyRollup)
            .exclude(assignee_id=None)
            .values("assignee_id")
            .annotate(
                assigned=Sum("tickets_created"),
                solved=Sum("tickets_solved"),
                sent=Sum("surveys_sent"),
                answered=Sum("surveys_answered"),
                satisfied=sum(
                    (Sum(f"rating_{n}") for n in range(SATISFIED_MIN, 6)), start=Value(0)
                ),
            )
            .filter(Q(assigned__gt=0) | Q(solved__gt=0) | Q(sent__gt=0))
            .order_by()
        }
        users = User.objects.filter(pk__in=list(per_agent)).order_by("username")
        rows = []
        for user in users:
            counts = per_agent[user.pk]
            frt = self._durations.get((RollupMetric.FIRST_RESPONSE, user.pk), Counter())
            rows.append(
                {
                    "agent_id": user.pk,
                    "agent": user.username,
                    "name": str(user),
                    "assigned": counts["assigned"],
                    "solved": counts["solved"],
                    "median_frt_seconds": _whole(estimate_percentile(frt, 0.5)),
                    "csat_answered": counts["answered"],
                    "csat_score": _ratio(counts["satisfied"], counts["answered"]),
                }
            )
        return rows

    def busiest_hours(self) -> list[list[int]]:
        rows = (
            self._rollups(RollupBucket)
            .filter(metric=RollupMetric.INBOUND_HOUR)
            .values("day", "bucket")
            .annotate(n=Sum("count"))
            .order_by()
        )
        grid = [[0] * 24 for _ in range(7)]
        for row in rows:
            grid[row["day"].weekday()][row["bucket"]] += row["n"]
        return grid


def get_rollup_coverage_start() -> date | None:
    coverage = RollupCoverage.objects.first()
    return coverage.covered_from if coverage else None


def get_report(*, filters: ReportFilters) -> LiveReport | RollupReport:
    """The rollup reader when the rollups cover the filters, else the live one with the reason
    (shown on the page)."""
    if filters.field_key:
        return LiveReport(filters, LIVE_FIELD_FILTER)
    covered_from = get_rollup_coverage_start()
    if covered_from is None or filters.date_from < covered_from:
        return LiveReport(filters, LIVE_NOT_COVERED)
    return RollupReport(filters)
