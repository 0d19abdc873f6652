"""Project-wide pytest setup: test settings, and the database/service markers."""

import os

import pytest
from django.core.cache import cache
from django.db import connection

from knowledge import embeddings, ranking


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    cache.clear()
    ranking.reset()
    embeddings.clear_query_cache()


@pytest.fixture
def database_tasks(settings):
    """Tasks go to the production backend (rows in django-tasks-db, run by a worker) instead of
    the immediate one, with the same queues."""
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "BACKEND": "django_tasks_db.DatabaseBackend"}
    }


def pytest_collection_modifyitems(config, items):
    for item in items:
        db_marker = item.get_closest_marker("django_db")
        if db_marker is not None and db_marker.kwargs.get("transaction"):
            # A transactional test ends by flushing every table, which would also wipe what the
            # data migrations seeded (roles, permissions, channels) for the tests after it.
            # Serialized rollback restores that content after the flush.
            item.add_marker(
                pytest.mark.django_db(
                    *db_marker.args, **{**db_marker.kwargs, "serialized_rollback": True}
                ),
                append=False,
            )
        if "postgres" in item.keywords and not os.environ.get("TEST_DATABASE_URL"):
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL to run it")
            )
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL to run it"))


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """A `postgres` test in the SQLite pass is skipped; it runs in the PostgreSQL pass."""
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=$TEST_DATABASE_URL)")


@pytest.fixture(autouse=True)
def _semantic_search_only_in_ml_tests(request, monkeypatch):
    """Outside `ml` tests, behave as if the ML extra were missing: writes enqueue no embedding
    work and search is lexical, so the suite stays fast and the same with or without the extra."""
    if not request.node.get_closest_marker("ml"):
        monkeypatch.setattr("knowledge.embeddings.is_available", lambda: False)
