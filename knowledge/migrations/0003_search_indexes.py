"""Lexical search indexes, per database vendor.

SQLite: an FTS5 table (rowid = product id) that the knowledge services keep in sync.
PostgreSQL: a GIN index over the same weighted tsvector expression the selector queries, plus
a trigram index on titles for typo tolerance when the pg_trgm extension can be created.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts USING fts5("
    "title, body, tokenize='porter unicode61 remove_diacritics 2')"
)
SQLITE_BACKFILL = (
    "INSERT INTO knowledge_fts(rowid, title, body) "
    "SELECT id, title, search_text FROM knowledge_productknowledge"
)
PG_SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS knowledge_search_gin ON knowledge_productknowledge USING gin (("
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(search_text, '')), 'B')))"
)
PG_TRGM_INDEX = (
    "CREATE INDEX IF NOT EXISTS knowledge_title_trgm ON knowledge_productknowledge "
    "USING gin (title gin_trgm_ops)"
)


def create_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
        schema_editor.execute(SQLITE_BACKFILL)
    elif vendor == "postgresql":
        schema_editor.execute(PG_SEARCH_INDEX)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            has_trgm = cursor.fetchone() is not None
        if has_trgm:
            try:
                # A savepoint: without the privilege to create extensions, search still works
                # (lexical without trigram typo tolerance) and the migration must not fail.
                with transaction.atomic(using=schema_editor.connection.alias):
                    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    schema_editor.execute(PG_TRGM_INDEX)
            except DatabaseError as exc:
                logger.warning("knowledge.migration.no_trigram: %s", exc)


def drop_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_search_gin")
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_title_trgm")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_product_notes_and_search_text")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
