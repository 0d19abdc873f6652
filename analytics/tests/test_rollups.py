"""Daily rollups: kept by the subscribers, rebuilt by the command, equal to the live figures.

The shop below is made only through services (tickets opened by customer messages, replies,
assignments, solves, a reopen, surveys sent by the task and answered), in New York time so
that UTC and local days differ, with every on-commit reaction executed (SLA deadlines from
automation, the CSAT task, the rollup refresh task).
"""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from accounts.models import Role
from accounts.tests.factories import TeamFactory, UserFactory
from analytics import histograms
from analytics.models import (
    BacklogCount,
    CustomerSatisfaction,
    DailyRollup,
    RollupBucket,
    RollupCoverage,
    RollupDirt,
)
from analytics.rollup_selectors import (
    LIVE_FIELD_FILTER,
    LIVE_NOT_COVERED,
    LiveReport,
    RollupReport,
    get_report,
)
from analytics.rollups import mark_tickets_dirty, rebuild_rollups, refresh_dirty_rollups
from analytics.selectors import ReportFilters, percentile
from analytics.services import answer_csat_survey
from analytics.subscribers import mark_rollups_dirty
from tickets import events
from tickets.models import ChannelKind, CustomField, TicketStatus
from tickets.services import (
    assign_ticket,
    change_status,
    open_ticket,
    record_inbound_message,
    reply_to_ticket,
)
from tickets.tests.factories import (
    CustomerIdentityFactory,
    OutboundMessageFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 08:00 in New York (13:00 UTC).
START = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 3, 2)
READ_AT = START + timedelta(days=12)

# (day offset, hour offset, channel, replies after minutes, agent, team?, solve after hours,
#  reopen?, rating)
SCRIPT = [
    (0, 0, ChannelKind.EMAIL, 30, "ana", True, 2, False, 5),
    (0, 1, ChannelKind.SMS, 5, "ben", False, 30, True, 2),
    (0, 15.8, ChannelKind.EMAIL, 600, "ana", False, 40, False, None),  # 23:48 local
    (1, 2, ChannelKind.WHATSAPP, 90, "ben", True, None, False, None),
    (2, 3, ChannelKind.EMAIL, 2000, None, True, 70, False, 4),
    (3, 4, ChannelKind.SMS, None, None, False, None, False, None),
    (4, 5, ChannelKind.EMAIL, 45, "ana", True, 5, True, 1),
    (7, 1, ChannelKind.FACEBOOK, 3, "ben", False, 1, False, 3),
    (8, 6, ChannelKind.EMAIL, 240, "ana", True, 100, False, None),
    (9, 2, ChannelKind.EMAIL, 12, "ben", False, None, False, None),
]


@pytest.fixture
def shop(settings, time_machine, django_capture_on_commit_callbacks):
    settings.TIME_ZONE = "America/New_York"
    settings.BUSINESS_HOURS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}
    manager = UserFactory(username="mia", role=Role.MANAGER)
    agents = {name: UserFactory(username=name, role=Role.AGENT) for name in ("ana", "ben")}
    sales = TeamFactory(name="Sales", slug="sales")
    steps: list[tuple[datetime, object]] = []
    for n, (day, hour, channel, reply, agent, team, solve, reopen, rating) in enumerate(SCRIPT):
        opened = START + timedelta(days=day, hours=hour)
        identity = CustomerIdentityFactory(value=f"c{n}@example.com")
        steps.append((opened, ("open", n, identity, channel)))
        if agent:
            steps.append((opened + timedelta(minutes=1), ("assign", n, agent, team)))
        if reply is not None:
            steps.append((opened + timedelta(minutes=reply), ("reply", n, agent or "ana")))
        if solve is not None:
            solved = opened + timedelta(hours=solve)
            steps.append((solved, ("solve", n)))
            if rating:
                steps.append((solved + timedelta(hours=2), ("answer", n, rating)))
            if reopen:
                steps.append((solved + timedelta(hours=3), ("write", n, identity)))
                steps.append((solved + timedelta(hours=5), ("solve", n)))
    tickets = {}
    for at, (kind, n, *args) in sorted(steps, key=lambda step: step[0]):
        time_machine.move_to(at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            if kind == "open":
                identity, channel = args
                ticket = open_ticket(customer=identity.customer, channel=channel, subject=f"T{n}")
                record_inbound_message(
                    ticket=ticket, channel=channel, sender=identity.value, body="Hello"
                )
                tickets[n] = ticket
            elif kind == "assign":
                agent, team = args
                tickets[n] = assign_ticket(
                    ticket=tickets[n],
                    actor=manager,
                    assignee=agents[agent],
                    team=sales if team else None,
                )
            elif kind == "reply":
                reply_to_ticket(ticket=tickets[n], author=agents[args[0]], body="On it")
            elif kind == "solve":
                change_status(ticket=tickets[n], actor=manager, status=TicketStatus.SOLVED)
            elif kind == "write":
                identity = args[0]
                record_inbound_message(
                    ticket=tickets[n], channel=tickets[n].channel, sender=identity.value, body="?"
                )
            elif kind == "answer":
                survey = CustomerSatisfaction.objects.get(ticket=tickets[n])
                answer_csat_survey(token=survey.token, rating=args[0])
            tickets[n].refresh_from_db()
    time_machine.move_to(READ_AT, tick=False)
    return {"tickets": tickets, "sales": sales, "manager": manager}


def _close(estimate: int | None, exact: int | None) -> bool:
    """Within the bucket error (factor 2^(1/8)), plus a second for rounding to whole seconds."""
    if estimate is None or exact is None:
        return estimate == exact
    return abs(estimate - exact) <= exact * (histograms.RATIO - 1) + 1


def _assert_same(rollup: RollupReport, live: LiveReport) -> None:
    summary, expected = rollup.summary(), live.summary()
    for group in ("first_response", "resolution"):
        for key, value in expected[group].items():
            if key == "count":
                assert summary[group][key] == value, (group, key)
            else:
                assert _close(summary[group][key], value), (group, key, summary[group][key], value)
    for key in ("from", "to", "tickets_created", "reopens", "csat", "sla", "backlog"):
        assert summary[key] == expected[key], key
    assert rollup.volume_by_day() == live.volume_by_day()
    assert rollup.busiest_hours() == live.busiest_hours()
    assert rollup.backlog_by_status() == live.backlog_by_status()
    agents, expected_agents = rollup.agent_stats(), live.agent_stats()
    assert len(agents) == len(expected_agents)
    for row, want in zip(agents, expected_agents, strict=True):
        assert _close(row.pop("median_frt_seconds"), want.pop("median_frt_seconds"))
        assert row == want


FILTER_CASES = [
    {},
    {"channel": ChannelKind.EMAIL},
    {"channel": ChannelKind.SMS},
    {"team": True},
    {"from": date(2026, 3, 3), "to": date(2026, 3, 5)},
    {"from": date(2026, 3, 9), "to": date(2026, 3, 14)},  # "today" (SLA live) is 14 March
]


def _snapshot() -> tuple[list, list]:
    rows = DailyRollup.objects.values_list(
        "day", "channel", "team_id", "assignee_id", "tickets_created", "first_responses",
        "tickets_solved", "tickets_reopened", "surveys_sent", "surveys_answered",
        "rating_1", "rating_2", "rating_3", "rating_4", "rating_5", "sla_due", "sla_breached",
    )  # fmt: skip
    cells = RollupBucket.objects.values_list(
        "day", "channel", "team_id", "assignee_id", "metric", "bucket", "count"
    )
    return sorted(rows, key=str), sorted(cells, key=str)


def test_rollups_kept_by_the_subscribers_equal_a_rebuild_and_the_live_figures(shop):
    """One fixture (it is slow: every reaction runs) for the whole ruleset."""
    everything = ReportFilters(date_from=FIRST_DAY, date_to=date(2026, 3, 14))
    figures = LiveReport(everything, "").summary()
    assert figures["tickets_created"] == len(SCRIPT)
    assert figures["first_response"]["count"] == 9
    assert figures["resolution"]["count"] == 7
    assert figures["reopens"]["reopened"] == 2
    assert figures["csat"]["answered"] == 5
    assert figures["sla"]["due"] and figures["sla"]["breached"]

    # The refresh task ran after every change: what it left equals a full rebuild.
    assert not RollupDirt.objects.exists()
    maintained = _snapshot()
    assert maintained[0] and maintained[1]
    first = rebuild_rollups(since=FIRST_DAY)
    assert _snapshot() == maintained
    second = rebuild_rollups(since=FIRST_DAY)
    assert (first.rows, first.buckets) == (second.rows, second.buckets)
    assert _snapshot() == maintained

    for case in FILTER_CASES:
        filters = ReportFilters(
            date_from=case.get("from", FIRST_DAY),
            date_to=case.get("to", date(2026, 3, 14)),
            channel=case.get("channel", ""),
            team_id=shop["sales"].pk if case.get("team") else None,
        )
        report = get_report(filters=filters)
        assert isinstance(report, RollupReport), case
        _assert_same(report, LiveReport(filters, ""))

    # A reopen empties the old solve day (the subscriber marks it from the old log).
    ticket = shop["tickets"][0]  # solved on 2 March, local
    record_inbound_message(
        ticket=ticket, channel=ticket.channel, sender="c0@example.com", body="Wait"
    )
    refresh_dirty_rollups()
    day = ReportFilters(date_from=FIRST_DAY, date_to=FIRST_DAY)
    assert get_report(filters=day).reopen_rate() == LiveReport(day, "").reopen_rate()
    assert get_report(filters=day).reopen_rate()["solved"] == 0


def test_the_refresh_drains_every_batch_and_recounts_the_backlog(monkeypatch, settings):
    settings.TIME_ZONE = "UTC"
    monkeypatch.setattr("analytics.rollups.DIRT_BATCH", 2)
    tickets = [TicketFactory(status=TicketStatus.OPEN) for _ in range(5)]
    mark_tickets_dirty(ticket_ids=[ticket.pk for ticket in tickets])
    refresh_dirty_rollups()  # three batches of two
    assert not RollupDirt.objects.exists()
    assert sum(DailyRollup.objects.values_list("tickets_created", flat=True)) == 5
    assert sum(BacklogCount.objects.values_list("count", flat=True)) == 5


def test_the_subscriber_marks_the_ticket_and_the_deadline_it_left():
    ticket = TicketFactory()
    mark_rollups_dirty(
        events.TicketDueChanged(
            ticket_id=ticket.pk,
            previous_due_at=datetime(2026, 3, 3, 3, 0, tzinfo=UTC),
            due_at=datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        )
    )
    assert sorted(RollupDirt.objects.values_list("ticket_id", "day"), key=str) == sorted(
        [(ticket.pk, None), (None, date(2026, 3, 3))], key=str
    )


@pytest.fixture
def few_tickets(settings, time_machine):
    """Two email tickets and an SMS one on Monday 2 March, New York time, with replies."""
    settings.TIME_ZONE = "America/New_York"
    agent = UserFactory(username="ana", role=Role.AGENT)
    for n, channel in enumerate([ChannelKind.EMAIL, ChannelKind.EMAIL, ChannelKind.SMS]):
        time_machine.move_to(START + timedelta(hours=n), tick=False)
        ticket = TicketFactory(channel=channel, assignee=agent, due_at=START + timedelta(days=1))
        TicketMessageFactory(ticket=ticket)
        time_machine.move_to(START + timedelta(hours=n, minutes=20), tick=False)
        OutboundMessageFactory(ticket=ticket, author=agent)
        ticket.first_response_at = START + timedelta(hours=n, minutes=20)
        ticket.save()
    time_machine.move_to(READ_AT, tick=False)
    return {"manager": UserFactory(username="mia", role=Role.MANAGER)}


def test_page_and_csv_read_the_rollups_and_fall_back_to_live(
    few_tickets, client, django_assert_max_num_queries
):
    shop = few_tickets
    filters = ReportFilters(date_from=FIRST_DAY, date_to=date(2026, 3, 14))
    assert get_report(filters=filters).reason == LIVE_NOT_COVERED  # never rebuilt
    call_command("rebuild_analytics_rollups", "--since", "2025-12-01")
    assert RollupCoverage.objects.get().covered_from == date.min  # no older ticket
    client.force_login(shop["manager"])
    query = {"from": "2026-03-02", "to": "2026-03-14"}
    assert 'data-report-source="rollups"' in client.get("/analytics/", query).content.decode()

    # A custom field filter cannot be rolled up: live, and the page says why.
    CustomField.objects.create(key="job_type", label="Job type", kind="text")
    field = ReportFilters(
        date_from=FIRST_DAY, date_to=date(2026, 3, 14), field_key="job_type", field_value="x"
    )
    assert get_report(filters=field).reason == LIVE_FIELD_FILTER
    page = client.get("/analytics/", {**query, "field": "job_type:x"}).content.decode()
    assert 'data-report-source="live"' in page and LIVE_FIELD_FILTER in page

    csv_query = {**query, "format": "csv", "table": "volume"}
    assert (
        client.get("/analytics/", csv_query)
        .content.decode()
        .splitlines()[1]
        .startswith("2026-03-02,2,1,0,0,0,0,3")
    )
    DailyRollup.objects.filter(day=FIRST_DAY).update(tickets_created=7)  # proves the source
    csv = client.get("/analytics/", csv_query).content.decode()
    assert csv.splitlines()[1] == "2026-03-02,7,7,0,0,0,0,14"

    week = {"from": "2026-03-02", "to": "2026-03-08"}
    quarter = {"from": "2025-12-09", "to": "2026-03-08"}
    with django_assert_max_num_queries(25) as week_queries:
        assert client.get("/analytics/", week).status_code == 200
    with django_assert_max_num_queries(len(week_queries.captured_queries)):
        assert client.get("/analytics/", quarter).status_code == 200


def test_coverage_grows_with_rebuilds_that_reach_it(settings, time_machine):
    settings.TIME_ZONE = "UTC"
    rebuild_rollups(since=date(2026, 3, 5))  # nothing older: every day is covered
    assert RollupCoverage.objects.get().covered_from == date.min
    RollupCoverage.objects.all().delete()
    time_machine.move_to(datetime(2025, 6, 1, tzinfo=UTC), tick=False)
    TicketFactory()
    time_machine.move_to(datetime(2026, 3, 14, tzinfo=UTC), tick=False)
    filters = ReportFilters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 9))
    rebuild_rollups(since=date(2026, 3, 5))  # through today (and any later deadline)
    assert get_report(filters=filters).reason == LIVE_NOT_COVERED  # starts before coverage
    later = ReportFilters(date_from=date(2026, 3, 5), date_to=date(2026, 3, 9))
    assert get_report(filters=later).is_rollup
    rebuild_rollups(since=date(2026, 1, 1), until=date(2026, 2, 1))  # a gap: no change
    assert RollupCoverage.objects.get().covered_from == date(2026, 3, 5)
    rebuild_rollups(since=date(2026, 3, 2), until=date(2026, 3, 4))  # joins: coverage grows
    assert RollupCoverage.objects.get().covered_from == date(2026, 3, 2)
    assert get_report(filters=filters).is_rollup


@pytest.mark.parametrize("seed", range(5))
def test_bucket_estimates_stay_within_the_documented_error(seed):
    rng = random.Random(seed)
    values = sorted(rng.lognormvariate(8, 2) for _ in range(rng.randrange(1, 400)))
    counts: dict[int, int] = {}
    for value in values:
        counts[histograms.bucket_of(value)] = counts.get(histograms.bucket_of(value), 0) + 1
    for fraction in (0.1, 0.5, 0.9, 0.99):
        exact = percentile(values, fraction)
        estimate = histograms.estimate_percentile(counts, fraction)
        assert exact / histograms.RATIO <= estimate <= exact * histograms.RATIO


def test_bucket_bounds_hold_their_values():
    for seconds in (0, 0.5, 1, 59.9, 60, 3600, 86400 * 45):
        low, high = histograms.bucket_bounds(histograms.bucket_of(seconds))
        assert low <= seconds < high
    assert histograms.estimate_percentile({}, 0.5) is None
