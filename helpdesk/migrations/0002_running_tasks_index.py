"""An index for the heartbeat's sweep of RUNNING tasks (helpdesk/task_workers.py).

Every worker looks for RUNNING tasks claimed more than the heartbeat timeout ago, every few
seconds, and django-tasks-db's table keeps every task it ever ran: without this partial index
each look is a scan of the whole table. The index holds only the few RUNNING rows. It is built
CONCURRENTLY on PostgreSQL (no write lock on a table that takes every webhook's task row), so the
migration is not atomic.
"""

from django.db import migrations

TABLE = "django_tasks_database_dbtaskresult"
NAME = "helpdesk_running_tasks_idx"
COLUMNS = "(started_at) WHERE status = 'RUNNING'"


def create_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {NAME} ON {TABLE} {COLUMNS}")


def drop_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("helpdesk", "0001_worker_heartbeat"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
