"""Report reads for the page, the CSV exports and the API: from the daily rollups when they can
answer, live (analytics.selectors) when they cannot (docs/metrics.md, "Rollups").

`get_report(filters=...)` returns an object with one method per figure; `LiveReport` forwards to
the selectors, `RollupReport` reads a few grouped queries over `DailyRollup`/`RollupBucket`
whatever the range. Counts equal the live ones; medians and p90s are estimated from the
duration buckets (analytics.histograms: within a factor 2^(1/8)). Three figures stay live in
both: the backlog (a snapshot of now), SLA deadlines falling today (they depend on the clock)
and the row lists (SLA breaches, survey answers, reprints and refunds), which are indexed
range reads of at most a page.
"""

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date
from functools import cached_property

from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import User
from analytics import selectors
from analytics.histograms import estimate_percentile
from analytics.models import DailyRollup, RollupBucket, RollupCoverage, RollupMetric
from analytics.rollups import COUNT_FIELDS
from analytics.selectors import SATISFIED_MIN, ReportFilters

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
    def _counts(self) -> list[dict]:
        """Sums per (day, channel, assignee)."""
        return list(
            self._rollups(DailyRollup)
            .values("day", "channel", "assignee_id")
            .annotate(**{f"sum_{name}": Sum(name) for name in COUNT_FIELDS})
            .order_by()
        )

    @cached_property
    def _totals(self) -> Counter:
        totals: Counter = Counter()
        for row in self._counts:
            for name in COUNT_FIELDS:
                if name.startswith("sla_") and row["day"] >= self.today:
                    continue  # today's deadlines depend on the clock: read live
                totals[name] += row[f"sum_{name}"]
        return totals

    @cached_property
    def _durations(self) -> dict[tuple[str, int | None], Counter]:
        """Histogram per (metric, assignee): assignee None sums over everyone."""
        rows = (
            self._rollups(RollupBucket)
            .exclude(metric=RollupMetric.INBOUND_HOUR)
            .values("metric", "assignee_id", "bucket")
            .annotate(n=Sum("count"))
            .order_by()
        )
        histograms: dict[tuple[str, int | None], Counter] = defaultdict(Counter)
        for row in rows:
            histograms[row["metric"], None][row["bucket"]] += row["n"]
            if row["assignee_id"] is not None:
                histograms[row["metric"], row["assignee_id"]][row["bucket"]] += row["n"]
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
        per_day: Counter = Counter()
        for row in self._counts:
            per_day[row["day"], row["channel"]] += row["sum_tickets_created"]
        return [
            {"day": day, "channel": channel, "count": count}
            for (day, channel), count in sorted(per_day.items())
            if count
        ]

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
        return selectors.count_backlog_by_status(filters=self.filters)

    def backlog_by_status(self) -> list[dict]:
        return self._backlog

    def agent_stats(self) -> list[dict]:
        per_agent: dict[int, Counter] = defaultdict(Counter)
        for row in self._counts:
            if row["assignee_id"] is None:
                continue
            for name in ("tickets_created", "tickets_solved", "surveys_sent", "surveys_answered"):
                per_agent[row["assignee_id"]][name] += row[f"sum_{name}"]
            for n in range(SATISFIED_MIN, 6):
                per_agent[row["assignee_id"]]["satisfied"] += row[f"sum_rating_{n}"]
        ids = [
            pk
            for pk, counts in per_agent.items()
            if counts["tickets_created"] or counts["tickets_solved"] or counts["surveys_sent"]
        ]
        users = User.objects.filter(pk__in=ids).order_by("username")
        rows = []
        for user in users:
            counts = per_agent[user.pk]
            frt = self._durations.get((RollupMetric.FIRST_RESPONSE, user.pk), Counter())
            rows.append(
                {
                    "agent_id": user.pk,
                    "agent": user.username,
                    "name": str(user),
                    "assigned": counts["tickets_created"],
                    "solved": counts["tickets_solved"],
                    "median_frt_seconds": _whole(estimate_percentile(frt, 0.5)),
                    "csat_answered": counts["surveys_answered"],
                    "csat_score": _ratio(counts["satisfied"], counts["surveys_answered"]),
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
