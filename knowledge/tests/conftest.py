import pytest

from knowledge import embeddings


@pytest.fixture
def no_ml(monkeypatch):
    """Behave as if the ML extra were not installed."""
    monkeypatch.setattr(embeddings, "is_available", lambda: False)


@pytest.fixture(scope="session")
def ml_model():
    """The real sentence model, loaded once per test session (skips without the ML extra)."""
    if not embeddings.is_available():
        pytest.skip("needs the ML extra: pip install -r requirements-ml.txt (make install-ml)")
    return embeddings.get_model()
