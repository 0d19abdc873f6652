import pytest

from integrations.fakes.perp import FakePerp


@pytest.fixture
def fake_perp(settings, monkeypatch):
    """The fake PERP server on a free loopback port; client retries do not sleep."""
    monkeypatch.setattr("integrations.http_retry._sleep", lambda seconds: None)
    server = FakePerp().start()
    settings.PERP_API_URL = server.url
    settings.PERP_API_KEY = server.api_key
    yield server
    server.stop()
