"""Loopback fake Shopify and PERP servers, wired into settings."""

import pytest

from integrations.fakes.perp import FakePerp
from integrations.fakes.shopify import FakeShopify
from integrations.http_retry import RetryPolicy


@pytest.fixture
def sleeps():
    """Delays the clients asked for, instead of sleeping."""
    return []


@pytest.fixture
def retry(sleeps):
    return RetryPolicy(attempts=3, backoff_seconds=0.5, sleep=sleeps.append)


@pytest.fixture
def no_sleep(monkeypatch, sleeps):
    """Clients built by app code (from_settings) record delays instead of sleeping."""
    monkeypatch.setattr("integrations.http_retry._sleep", sleeps.append)
    return sleeps


@pytest.fixture
def fake_shopify(settings, no_sleep):
    server = FakeShopify().start()
    settings.SHOPIFY_API_URL = server.api_url
    settings.SHOPIFY_ACCESS_TOKEN = server.access_token
    settings.SHOPIFY_WEBHOOK_SECRET = "shpss_test_secret"
    yield server
    server.stop()


@pytest.fixture
def fake_perp(settings, no_sleep):
    server = FakePerp().start()
    settings.PERP_API_URL = server.url
    settings.PERP_API_KEY = server.api_key
    yield server
    server.stop()
