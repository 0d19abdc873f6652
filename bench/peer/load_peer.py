"""Load the peer with the same tickets as Printdesk's benchmark database, via its own models.

Run with the peer venv: `DATABASE_URL=<peer db> python load_peer.py <source db url>`, cwd
bench/peer. Reads Printdesk's tickets and messages (SQL, streamed) and bulk-creates
django-helpdesk Queues (one per channel), Tickets (same ids, subjects, statuses, priorities,
assignees, dates) and FollowUps (one per message), plus the staff user the benchmark logs in as.
"""

import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlparse

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_site.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket  # noqa: E402

STAFF_USERNAME, STAFF_PASSWORD = "bench-staff", "bench-password"
STATUS = {"new": 1, "open": 1, "pending": 1, "on_hold": 1, "solved": 3, "closed": 4}
PRIORITY = {"urgent": 1, "high": 2, "normal": 3, "low": 4}
BATCH = 5000

TICKETS_SQL = """
SELECT t.id, t.subject, t.channel, t.status, t.priority, t.assignee_id, t.created_at,
       t.updated_at, t.due_at,
       (SELECT value FROM tickets_customeridentity i
         WHERE i.customer_id = t.customer_id AND i.kind = 'email' ORDER BY i.id LIMIT 1)
FROM tickets_ticket t ORDER BY t.id
"""
MESSAGES_SQL = """
SELECT ticket_id, direction, body, created_at, author_id
FROM tickets_ticketmessage ORDER BY ticket_id, id
"""


def source_rows(url: str, sql: str):
    """Stream rows from Printdesk's database (server-side cursor on PostgreSQL)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(urlparse(url).path)
        conn.row_factory = None
        yield from conn.execute(sql)
        conn.close()
        return
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor(name="peer_load") as cursor:
        cursor.itersize = BATCH
        cursor.execute(sql)
        yield from cursor


def when(value):
    """SQLite hands back text; PostgreSQL datetimes."""
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        return parse_datetime(value)
    return value


@contextmanager
def explicit_timestamps():
    fields = [f for m in (Ticket, FollowUp) for f in m._meta.concrete_fields]
    switched = [(f, a) for f in fields for a in ("auto_now", "auto_now_add") if getattr(f, a, 0)]
    for field, attr in switched:
        setattr(field, attr, False)
    try:
        yield
    finally:
        for field, attr in switched:
            setattr(field, attr, True)


def main(source: str) -> None:
    started = time.perf_counter()
    users = get_user_model()
    staff, _ = users.objects.get_or_create(username=STAFF_USERNAME, defaults={"is_staff": True})
    staff.set_password(STAFF_PASSWORD)
    staff.is_staff = True
    staff.save()
    agents = {
        row[0]: users.objects.get_or_create(username=row[1], defaults={"is_staff": True})[0].pk
        for row in source_rows(source, "SELECT id, username FROM accounts_user")
    }
    queues = {}
    for channel in ("email", "sms", "whatsapp", "instagram", "facebook"):
        queues[channel] = Queue.objects.get_or_create(
            slug=channel, defaults={"title": channel.title(), "allow_public_submission": False}
        )[0]
    tickets = 0
    with explicit_timestamps():
        batch = []
        for pk, subject, channel, status, priority, assignee, created, updated, due, email in (
            source_rows(source, TICKETS_SQL)
        ):
            batch.append(
                Ticket(
                    id=pk,
                    title=subject[:200],
                    queue=queues[channel],
                    created=when(created),
                    modified=when(updated),
                    submitter_email=email,
                    assigned_to_id=agents.get(assignee),
                    status=STATUS[status],
                    on_hold=status == "on_hold",
                    priority=PRIORITY[priority],
                    due_date=when(due),
                    description="",
                )
            )
            if len(batch) >= BATCH:
                tickets += flush(Ticket, batch)
        tickets += flush(Ticket, batch)
        followups = 0
        for ticket_id, direction, body, created, author in source_rows(source, MESSAGES_SQL):
            batch.append(
                FollowUp(
                    ticket_id=ticket_id,
                    date=when(created),
                    title="Reply" if direction == "out" else "Comment",
                    comment=body,
                    public=True,
                    user_id=agents.get(author),
                )
            )
            if len(batch) >= BATCH:
                followups += flush(FollowUp, batch)
        followups += flush(FollowUp, batch)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Ticket, FollowUp]):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    print(f"peer: {tickets} tickets, {followups} follow-ups in {elapsed:.1f}s")


def flush(model, batch: list) -> int:
    count = len(batch)
    with transaction.atomic():
        model.objects.bulk_create(batch, batch_size=BATCH)
    batch.clear()
    return count


if __name__ == "__main__":
    main(sys.argv[1])
