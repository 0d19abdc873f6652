"""Metric formulas against the hand-computed data set in conftest.py."""

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import selectors
from analytics.selectors import ReportFilters, business_seconds
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory

MARCH = ReportFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 10))


def test_volume_by_channel_and_day(world):
    rows = selectors.list_volume_by_day(filters=MARCH)
    assert [(r["day"], r["channel"], r["count"]) for r in rows] == [
        (date(2026, 3, 2), "email", 1),
        (date(2026, 3, 3), "email", 1),
        (date(2026, 3, 6), "sms", 1),
    ]


def test_first_response_median_p90_and_business_hours(world):
    frt = selectors.get_first_response_times(filters=MARCH)
    # A: 30 min (the automated reply at 09:01 and the note at 09:05 do not count).
    # B: Fri 17:00 -> Mon 09:30 = 232200 s calendar, 30 + 30 min = 3600 s in business hours.
    assert frt == {
        "count": 2,
        "median_seconds": (1800 + 232200) / 2,
        "p90_seconds": 1800 + 0.9 * (232200 - 1800),
        "business_median_seconds": 2700,
        "business_p90_seconds": 1800 + 0.9 * 1800,
    }


def test_resolution_and_reopen_rate(world):
    assert selectors.get_resolution_times(filters=MARCH) == {
        "count": 2,
        "median_seconds": (7200 + 234000) / 2,
        "p90_seconds": 7200 + 0.9 * (234000 - 7200),
    }
    assert selectors.get_reopen_rate(filters=MARCH) == {"solved": 2, "reopened": 1, "rate": 0.5}


def test_csat_score_and_response_rate(world):
    csat = selectors.get_csat(filters=MARCH)
    assert (csat["sent"], csat["answered"], csat["satisfied"], csat["rating_5"]) == (2, 1, 1, 1)
    assert (csat["score"], csat["response_rate"]) == (1.0, 0.5)


def test_sla_breaches(world):
    # A answered and solved before 12:00; B answered after its deadline; C open past it.
    assert selectors.get_sla_breaches(filters=MARCH) == {"due": 3, "breached": 2, "rate": 0.6667}
    breached = selectors.list_sla_breaches(filters=MARCH)
    assert [row["reference"] for row in breached] == [world["c"].reference, world["b"].reference]


def test_backlog_agents_and_heatmap(world):
    backlog = {r["status"]: r["count"] for r in selectors.count_backlog_by_status(filters=MARCH)}
    assert backlog == {"new": 0, "open": 1, "pending": 0, "on_hold": 0}
    agents = {row["agent"]: row for row in selectors.list_agent_stats(filters=MARCH)}
    assert agents["ana"]["assigned"] == agents["ana"]["solved"] == 1
    assert (agents["ana"]["median_frt_seconds"], agents["ana"]["csat_score"]) == (1800, 1.0)
    assert (agents["ben"]["median_frt_seconds"], agents["ben"]["csat_score"]) == (232200, None)
    grid = selectors.get_busiest_hours(filters=MARCH)
    assert (grid[0][9], grid[1][10], grid[4][17]) == (1, 1, 1)
    assert sum(map(sum, grid)) == 3


def test_filters_by_channel_and_team(world):
    sms = ReportFilters(date_from=MARCH.date_from, date_to=MARCH.date_to, channel="sms")
    assert selectors.get_summary(filters=sms)["tickets_created"] == 1
    sales = ReportFilters(
        date_from=MARCH.date_from, date_to=MARCH.date_to, team_id=world["sales"].pk
    )
    summary = selectors.get_summary(filters=sales)
    assert (summary["tickets_created"], summary["backlog"], summary["sla"]["breached"]) == (1, 1, 1)


def test_range_outside_data_is_empty(world):
    february = ReportFilters(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    summary = selectors.get_summary(filters=february)
    assert summary["tickets_created"] == 0
    assert summary["first_response"]["median_seconds"] is None
    assert summary["csat"]["score"] is None


def test_query_count_does_not_depend_on_range(world):
    def queries(filters):
        with CaptureQueriesContext(connection) as ctx:
            selectors.get_summary(filters=filters)
            selectors.list_agent_stats(filters=filters)
            selectors.get_busiest_hours(filters=filters)
        return len(ctx.captured_queries)

    one_day = ReportFilters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
    two_years = ReportFilters(date_from=date(2025, 1, 1), date_to=date(2026, 12, 31))
    assert queries(one_day) == queries(two_years)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 2, 10, 0), 3600),  # before opening
        (datetime(2026, 3, 6, 17, 0), datetime(2026, 3, 9, 9, 30), 3600),  # over a weekend
        (datetime(2026, 3, 7, 10, 0), datetime(2026, 3, 8, 10, 0), 0),  # Saturday to Sunday
        (datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 3, 9, 0), 30600),  # one full day
    ],
)
def test_business_seconds(db, settings, start, end, expected):
    settings.BUSINESS_HOURS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}
    pairs = [(start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))]
    assert _sql_business_seconds(pairs) == [expected]


def test_business_hours_are_in_local_time(db, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    # 08:00-09:00 UTC on a Monday in March is 09:00-10:00 in Amsterdam: one business hour.
    start, end = datetime(2026, 3, 2, 8, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert _sql_business_seconds([(start, end)]) == [3600]


def _sql_business_seconds(pairs: list[tuple[datetime, datetime]]) -> list[float]:
    """The SQL business-hours expression, evaluated on tickets created/answered at `pairs`."""
    ids = []
    for start, end in pairs:
        ticket = TicketFactory()
        Ticket.objects.filter(pk=ticket.pk).update(created_at=start, first_response_at=end)
        ids.append(ticket.pk)
    rows = dict(
        Ticket.objects.filter(pk__in=ids)
        .annotate(b=business_seconds(start="created_at", end="first_response_at"))
        .values_list("pk", "b")
    )
    return [round(rows[pk]) for pk in ids]


def _naive_business_seconds(start: datetime, end: datetime) -> float:
    """Day by day, the obvious way: the reference the O(1) clock must agree with."""
    total, day = 0.0, start.date()
    while day <= end.date():
        if day.weekday() < 5:
            opens = datetime.combine(day, time(9, 0), tzinfo=UTC)
            closes = datetime.combine(day, time(17, 30), tzinfo=UTC)
            total += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
        day += timedelta(days=1)
    return total


def test_sql_business_hours_agree_with_the_naive_count(db, settings):
    settings.TIME_ZONE = "UTC"
    settings.BUSINESS_HOURS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}
    rng = random.Random(7)
    base = datetime(2026, 2, 23, tzinfo=UTC)
    pairs = []
    for _ in range(80):
        start = base + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
        pairs.append((start, start + timedelta(minutes=rng.randint(0, 60 * 24 * 12))))
    assert _sql_business_seconds(pairs) == [_naive_business_seconds(s, e) for s, e in pairs]
