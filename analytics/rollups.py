"""Rollup writes: the daily rows the reports read (docs/metrics.md, "Rollups").

A day is always recomputed whole from the source tables (tickets, conversation logs, surveys,
customer messages), never patched by increments, so recomputing is idempotent and a rollup day
always equals what the live queries say for it. What changes a figure marks its ticket (or a day)
dirty inside the changing transaction (`mark_tickets_dirty`, called by `analytics.subscribers`);
the `refresh_analytics_rollups` task (bulk queue) turns dirty tickets into their days,
recomputes those and recounts the backlog (a snapshot of now, so it is simply counted again).
`rebuild_analytics_rollups --since/--until` recomputes a range.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from analytics.histograms import bucket_of
from analytics.models import (
    BacklogCount,
    ConversationLog,
    CustomerSatisfaction,
    DailyRollup,
    RollupBucket,
    RollupCoverage,
    RollupDay,
    RollupDirt,
    RollupMetric,
)
from analytics.selectors import DurationSeconds, ReportFilters, business_seconds, sla_breached
from tickets.models import MessageDirection, Ticket, TicketMessage, TicketStatus

# Any constant: the PostgreSQL advisory lock that serialises backlog recounts.
BACKLOG_LOCK = 26_001
# Days recomputed in one transaction (and held in memory): a month of a busy shop.
CHUNK_DAYS = 31
DIRT_BATCH = 2000

COUNT_FIELDS = [
    "tickets_created",
    "first_responses",
    "tickets_solved",
    "tickets_reopened",
    "surveys_sent",
    "surveys_answered",
    *(f"rating_{n}" for n in range(1, 6)),
    "sla_due",
    "sla_breached",
]


@dataclass(frozen=True)
class RebuildReport:
    days: int
    rows: int
    buckets: int


def _local_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _chunks(since: date, until: date) -> Iterator[tuple[date, date]]:
    start = since
    while start <= until:
        end = min(until, start + timedelta(days=CHUNK_DAYS - 1))
        yield start, end
        start = end + timedelta(days=1)


def _lock_days(since: date, until: date) -> None:
    """Take the days' lock rows (created on first use), in day order so two workers never
    deadlock; a second worker on the same days waits until the first commits."""
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    now = timezone.now()
    RollupDay.objects.bulk_create(
        [RollupDay(day=day, computed_at=now) for day in days], ignore_conflicts=True
    )
    list(RollupDay.objects.select_for_update().filter(day__range=(since, until)).order_by("day"))


def _range_rows(since: date, until: date) -> tuple[dict, Counter]:
    """Count rows and histogram cells of the days `since`..`until`, from the source tables."""
    scope = ReportFilters(date_from=since, date_to=until)
    start, end = scope.start, scope.end
    counts: dict[tuple, Counter] = defaultdict(Counter)
    cells: Counter = Counter()

    created = (
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
        .values(d=_local_day("created_at"), c=F("channel"), t=F("team_id"), a=F("assignee_id"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in created:
        counts[row["d"], row["c"], row["t"], row["a"]]["tickets_created"] += row["n"]

    responded = (
        Ticket.objects.filter(
            created_at__gte=start, created_at__lt=end, first_response_at__isnull=False
        )
        .annotate(
            frt=DurationSeconds(F("first_response_at"), F("created_at")),
            business=business_seconds(start="created_at", end="first_response_at"),
        )
        .values_list(
            _local_day("created_at"), "channel", "team_id", "assignee_id", "frt", "business"
        )
        .order_by()
    )
    for day, channel, team, assignee, frt, business in responded:
        counts[day, channel, team, assignee]["first_responses"] += 1
        cells[day, channel, team, assignee, RollupMetric.FIRST_RESPONSE, bucket_of(frt)] += 1
        business_cell = (day, channel, team, None, RollupMetric.FIRST_RESPONSE_BUSINESS)
        cells[*business_cell, bucket_of(business)] += 1

    solved = (
        ConversationLog.objects.filter(solved_at__gte=start, solved_at__lt=end)
        .values_list(
            _local_day("solved_at"),
            "ticket__channel",
            "ticket__team_id",
            "assignee_id",
            "resolution_seconds",
            "reopen_count",
        )
        .order_by()
    )
    for day, channel, team, assignee, resolution, reopens in solved:
        key = (day, channel, team, assignee)
        counts[key]["tickets_solved"] += 1
        counts[key]["tickets_reopened"] += 1 if reopens else 0
        if resolution is not None:
            cells[day, channel, team, None, RollupMetric.RESOLUTION, bucket_of(resolution)] += 1

    surveys = (
        CustomerSatisfaction.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .values(
            d=_local_day("sent_at"),
            c=F("ticket__channel"),
            t=F("ticket__team_id"),
            a=F("ticket__assignee_id"),
        )
        .annotate(
            sent=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            **{f"r{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)},
        )
        .order_by()
    )
    for row in surveys:
        row_counts = counts[row["d"], row["c"], row["t"], row["a"]]
        row_counts["surveys_sent"] += row["sent"]
        row_counts["surveys_answered"] += row["answered"]
        for n in range(1, 6):
            row_counts[f"rating_{n}"] += row[f"r{n}"]

    due = (
        Ticket.objects.filter(due_at__gte=start, due_at__lt=end)
        .values(d=_local_day("due_at"), c=F("channel"), t=F("team_id"), a=F("assignee_id"))
        .annotate(due=Count("pk"), breached=Count("pk", filter=sla_breached(now=None)))
        .order_by()
    )
    for row in due:
        row_counts = counts[row["d"], row["c"], row["t"], row["a"]]
        row_counts["sla_due"] += row["due"]
        row_counts["sla_breached"] += row["breached"]

    inbound = (
        TicketMessage.objects.filter(
            direction=MessageDirection.INBOUND, created_at__gte=start, created_at__lt=end
        )
        .values(
            d=_local_day("created_at"),
            h=ExtractHour("created_at", tzinfo=timezone.get_current_timezone()),
            c=F("ticket__channel"),
            t=F("ticket__team_id"),
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in inbound:
        cells[row["d"], row["c"], row["t"], None, RollupMetric.INBOUND_HOUR, row["h"]] += row["n"]
    return counts, cells


def _insert_rows(model, fields: list[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples: COPY on PostgreSQL, executemany elsewhere. A rebuild writes hundreds
    of thousands of rows, where model instances (bulk_create) or SQL text cost more than the
    database does."""
    rows = list(rows)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            # Table and column names come from the model, never from input.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, rows)
    return len(rows)


@transaction.atomic
def _recompute_chunk(since: date, until: date) -> RebuildReport:
    _lock_days(since, until)
    counts, cells = _range_rows(since, until)
    DailyRollup.objects.filter(day__range=(since, until)).delete()
    RollupBucket.objects.filter(day__range=(since, until)).delete()
    day = connection.ops.adapt_datefield_value
    rows = _insert_rows(
        DailyRollup,
        ["day", "channel", "team_id", "assignee_id", *COUNT_FIELDS],
        (
            (day(key[0]), *key[1:], *(values[name] for name in COUNT_FIELDS))
            for key, values in counts.items()
        ),
    )
    buckets = _insert_rows(
        RollupBucket,
        ["day", "channel", "team_id", "assignee_id", "metric", "bucket", "count"],
        ((day(key[0]), *key[1:], count) for key, count in cells.items()),
    )
    RollupDay.objects.filter(day__range=(since, until)).update(computed_at=timezone.now())
    return RebuildReport(days=(until - since).days + 1, rows=rows, buckets=buckets)


def recompute_rollup_days(*, since: date, until: date) -> RebuildReport:
    """Replace the rollup rows of the local days `since`..`until` (inclusive) by fresh counts,
    a month per transaction."""
    reports = [_recompute_chunk(start, end) for start, end in _chunks(since, until)]
    return RebuildReport(
        days=sum(r.days for r in reports),
        rows=sum(r.rows for r in reports),
        buckets=sum(r.buckets for r in reports),
    )


def last_rollup_day() -> date:
    """Today, or the last SLA deadline if one falls later (a deadline counts on its day)."""
    last_due = Ticket.objects.aggregate(last=Max("due_at"))["last"]
    today = timezone.localdate()
    return max(today, timezone.localdate(last_due)) if last_due else today


def rebuild_rollups(*, since: date, until: date | None = None) -> RebuildReport:
    """Recompute a range (the management command; `until` defaults to `last_rollup_day()`).
    A rebuild that reaches today makes the rollups cover everything from `since` on (every day,
    when no ticket is older); an older range that joins the covered one extends it backwards."""
    until = until or last_rollup_day()
    report = recompute_rollup_days(since=since, until=until)
    recount_backlog()
    if connection.vendor == "postgresql":
        # A rebuild may replace most rows: fresh statistics let the reads hash-aggregate.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE analytics_dailyrollup, analytics_rollupbucket")
    coverage = RollupCoverage.objects.first()
    joins = coverage is not None and until + timedelta(days=1) >= coverage.covered_from
    if until >= timezone.localdate() or joins:
        covered_from = min(since, coverage.covered_from) if coverage else since
        if covered_from != date.min:
            start = ReportFilters(date_from=covered_from, date_to=covered_from).start
            if not Ticket.objects.filter(created_at__lt=start).exists():
                # Nothing happened before it (every figure belongs to a ticket created earlier):
                # the rollups of those empty days are complete too.
                covered_from = date.min
        RollupCoverage.objects.update_or_create(
            pk=coverage.pk if coverage else None,
            defaults={"covered_from": covered_from, "rebuilt_at": timezone.now()},
        )
    return report


@transaction.atomic
def recount_backlog() -> int:
    """Replace the backlog counts by a fresh count of the unresolved tickets."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BACKLOG_LOCK])
    rows = (
        Ticket.objects.filter(status__in=TicketStatus.OPEN_STATES)
        .values_list("channel", "team_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    BacklogCount.objects.all().delete()
    created = BacklogCount.objects.bulk_create(
        BacklogCount(channel=channel, team_id=team, status=status, count=n)
        for channel, team, status, n in rows
    )
    return len(created)


def mark_tickets_dirty(*, ticket_ids: Iterable[int]) -> None:
    """Queue the days of these tickets for recomputation (call inside the changing
    transaction, so the mark commits with the change)."""
    RollupDirt.objects.bulk_create([RollupDirt(ticket_id=pk) for pk in set(ticket_ids)])


def mark_day_dirty(*, day: date) -> None:
    """Queue a day that a ticket just left (its previous solve day, say)."""
    RollupDirt.objects.create(day=day)


def _ticket_days(ticket_ids: list[int]) -> set[date]:
    """Every local day on which these tickets count in some report figure."""
    days: set[date] = set()
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    for created, due in tickets.values_list(_local_day("created_at"), _local_day("due_at")):
        days.update(day for day in (created, due) if day)
    days.update(
        ConversationLog.objects.filter(ticket_id__in=ticket_ids, solved_at__isnull=False)
        .values_list(_local_day("solved_at"), flat=True)
        .order_by()
    )
    days.update(
        CustomerSatisfaction.objects.filter(ticket_id__in=ticket_ids, sent_at__isnull=False)
        .values_list(_local_day("sent_at"), flat=True)
        .order_by()
    )
    days.update(
        TicketMessage.objects.filter(ticket_id__in=ticket_ids, direction=MessageDirection.INBOUND)
        .values_list(_local_day("created_at"), flat=True)
        .distinct()
        .order_by()
    )
    return days


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days grouped into (first, last) ranges."""
    ordered = sorted(set(days))
    while ordered:
        first = last = ordered.pop(0)
        while ordered and ordered[0] == last + timedelta(days=1):
            last = ordered.pop(0)
        yield first, last


def _refresh_batch() -> tuple[int, int]:
    """One batch of dirt: (dirt rows handled, days recomputed)."""
    dirt = list(
        RollupDirt.objects.order_by("pk").values_list("pk", "ticket_id", "day")[:DIRT_BATCH]
    )
    if not dirt:
        return 0, 0
    ticket_ids = [ticket_id for _, ticket_id, _ in dirt if ticket_id is not None]
    # Future days too: a ticket counts on the day its SLA deadline falls.
    days = {day for _, _, day in dirt if day is not None} | _ticket_days(ticket_ids)
    for since, until in _runs(days):
        recompute_rollup_days(since=since, until=until)
    RollupDirt.objects.filter(pk__in=[pk for pk, _, _ in dirt]).delete()
    return len(dirt), len(days)


def refresh_dirty_rollups() -> int:
    """Recompute the days of what was marked dirty, then recount the backlog; returns how many
    days were recomputed.

    Dirt rows are read first and deleted by id at the end: a change that commits meanwhile left
    its own row, which the next batch or run handles, so nothing is missed. Two runs at once may
    both recompute a day; the day lock makes them take turns and either result is current.
    """
    total = days = 0
    while True:
        handled, recomputed = _refresh_batch()
        total, days = total + handled, days + recomputed
        if handled < DIRT_BATCH:
            break
    if total:
        recount_backlog()
    return days
