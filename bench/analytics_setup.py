"""`python -m bench.analytics_setup`: what the analytics benchmark needs beyond `bench_data`.

`bench_data` writes tickets and messages only. This adds, once, the analytics rows a real shop
has for them: a conversation log per solved/closed ticket (every tenth reopened once) and a
CSAT survey for a third of them (half answered, ratings 1-5), all in SQL, plus a Manager
(`bench-manager`, the bench password) who may read reports. Prints {"logs": n, "surveys": n}.
"""

import json

import django

MANAGER = "bench-manager"
LOGS_SQL = """
INSERT INTO analytics_conversationlog (ticket_id, channel, assignee_id, inbound_count,
    outbound_count, note_count, reopen_count, first_response_seconds, resolution_seconds,
    solved_at, updated_at)
SELECT t.id, t.channel, t.assignee_id, 0, 0, 0, CASE WHEN t.id % 10 = 0 THEN 1 ELSE 0 END,
    {frt}, {resolution}, t.resolved_at, t.resolved_at
FROM tickets_ticket t
WHERE t.resolved_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM analytics_conversationlog l WHERE l.ticket_id = t.id)
"""
SURVEYS_SQL = """
INSERT INTO analytics_customersatisfaction (ticket_id, customer_id, token, channel, rating,
    comment, sent_at, expires_at, answered_at, created_at)
SELECT t.id, t.customer_id, 'bench-' || t.id, t.channel,
    CASE WHEN t.id % 2 = 0 THEN 1 + t.id % 5 END, '', t.resolved_at, {expires_at},
    CASE WHEN t.id % 2 = 0 THEN {answered_at} END, t.resolved_at
FROM tickets_ticket t
WHERE t.resolved_at IS NOT NULL AND t.id % 3 = 0
    AND NOT EXISTS (SELECT 1 FROM analytics_customersatisfaction s WHERE s.ticket_id = t.id)
"""


def _seconds(connection, end: str, start: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS INTEGER)"
    return f"CAST((julianday({end}) - julianday({start})) * 86400 AS INTEGER)"


def add_analytics_rows() -> dict[str, int]:
    from django.db import connection, transaction

    frt = _seconds(connection, "t.first_response_at", "t.created_at")
    resolution = _seconds(connection, "t.resolved_at", "t.created_at")
    one_hour = "INTERVAL '1 hour'" if connection.vendor == "postgresql" else None
    answered_at = (
        f"t.resolved_at + {one_hour}" if one_hour else "datetime(t.resolved_at, '+1 hour')"
    )
    expires_at = (
        "t.resolved_at + INTERVAL '14 days'" if one_hour else "datetime(t.resolved_at, '+14 days')"
    )
    # .format only splices the engine's date arithmetic above, never input.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOGS_SQL.format(frt=frt, resolution=resolution))
        logs = cursor.rowcount
        sql = SURVEYS_SQL.format(expires_at=expires_at, answered_at=answered_at)
        cursor.execute(sql)
        surveys = cursor.rowcount
    return {"logs": logs, "surveys": surveys}


def ensure_manager() -> None:
    from django.contrib.auth.models import Group

    from accounts.models import Role, User
    from helpdesk.management.commands.bench_data import BENCH_PASSWORD

    manager, created = User.objects.get_or_create(
        username=MANAGER, defaults={"email": "bench-manager@printdesk.test"}
    )
    if created:
        manager.set_password(BENCH_PASSWORD)
        manager.save()
        manager.groups.add(Group.objects.get(name=Role.MANAGER))


def main() -> None:
    django.setup()
    ensure_manager()
    print(json.dumps(add_analytics_rows()))


if __name__ == "__main__":
    main()
