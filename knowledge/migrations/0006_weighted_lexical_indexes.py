"""Weighted lexical indexes: title > keywords (type, tags) > body, kept by the services.

SQLite: the FTS5 table gets a third column (title, keywords, body) so bm25 can weigh them.
PostgreSQL: the persisted `search_vector` column is backfilled and GIN-indexed; the query no
longer computes `to_tsvector` per row, so the old expression index goes. Products re-indexed by
the services afterwards get keywords with their variant options too.
"""

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5("
    "title, keywords, body, tokenize='porter unicode61 remove_diacritics 2')"
)
PG_BACKFILL = (
    "UPDATE knowledge_productknowledge SET search_vector = "
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(product_type, '') || ' ' || "
    "COALESCE(tags::text, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(search_text, '')), 'C')"
)
PG_INDEX = (
    "CREATE INDEX IF NOT EXISTS knowledge_search_vector_gin "
    "ON knowledge_productknowledge USING gin (search_vector)"
)
PG_OLD_INDEX = (
    "CREATE INDEX IF NOT EXISTS knowledge_search_gin ON knowledge_productknowledge USING gin (("
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(search_text, '')), 'B')))"
)


def _sqlite_rows(apps):
    product_model = apps.get_model("knowledge", "ProductKnowledge")
    for product in product_model.objects.only("pk", "title", "product_type", "tags", "search_text"):
        keywords = "\n".join(p for p in (product.product_type, ", ".join(product.tags or [])) if p)
        yield [product.pk, product.title, keywords, product.search_text]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_fts")
        schema_editor.execute(SQLITE_CREATE)
        with schema_editor.connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO knowledge_fts(rowid, title, keywords, body) VALUES (%s, %s, %s, %s)",
                list(_sqlite_rows(apps)),
            )
    elif vendor == "postgresql":
        schema_editor.execute(PG_BACKFILL)
        schema_editor.execute(PG_INDEX)
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_search_gin")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_fts")
        schema_editor.execute(
            "CREATE VIRTUAL TABLE knowledge_fts USING fts5("
            "title, body, tokenize='porter unicode61 remove_diacritics 2')"
        )
        schema_editor.execute(
            "INSERT INTO knowledge_fts(rowid, title, body) "
            "SELECT id, title, search_text FROM knowledge_productknowledge"
        )
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_search_vector_gin")
        schema_editor.execute(PG_OLD_INDEX)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0005_search_vector")]

    operations = [migrations.RunPython(forwards, backwards)]
