"""Recompute the daily analytics rollups of a date range from the source tables (idempotent).

Run once after deploying the rollups (`--since` the first day with tickets), after loading data
in bulk (`bench_data`, imports), or from cron as a safety net (`--days 7`: the last week, which
also catches an SLA deadline moved by a priority change). Reports read the rollups only for
ranges they cover; the others are computed live (docs/metrics.md, "Rollups").
"""

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from analytics.rollups import rebuild_rollups
from tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute the daily analytics rollups of a date range (days in TIME_ZONE)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=date.fromisoformat,
            help="First day, YYYY-MM-DD (default: the first ticket's day).",
        )
        parser.add_argument(
            "--until",
            type=date.fromisoformat,
            help="Last day, inclusive (default: today, or the last SLA deadline if later).",
        )
        parser.add_argument("--days", type=int, help="Only the last N days up to --until.")

    def handle(self, *args, since: date | None, until: date | None, days: int | None, **options):
        if days is not None and since is not None:
            raise CommandError("Give --since or --days, not both.")
        if days is not None:
            if days < 1:
                raise CommandError("--days must be at least 1.")
            since = (until or timezone.localdate()) - timedelta(days=days - 1)
        if since is None:
            first = Ticket.objects.aggregate(first=Min("created_at"))["first"]
            since = timezone.localdate(first) if first else timezone.localdate()
        if until is not None and until < since:
            raise CommandError("--until is before --since.")
        started = time.perf_counter()
        report = rebuild_rollups(since=since, until=until)
        self.stdout.write(
            f"rebuild_analytics_rollups: {report.days} days from {since}, {report.rows} rows, "
            f"{report.buckets} buckets in {time.perf_counter() - started:.1f}s"
        )
