"""Loopback fake Shopify, PERP and messaging servers, wired into settings."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.fakes.messaging import FakeMessaging
from integrations.fakes.perp import FakePerp
from integrations.fakes.shopify import FakeShopify
from integrations.fakes.shopify_cost import VirtualClock
from integrations.http_retry import RetryPolicy


@pytest.fixture
def clock():
    """Virtual time shared by the clients' waits and the fake Shopify's cost bucket."""
    return VirtualClock()


@pytest.fixture
def sleeps(clock):
    """Delays the clients asked for, instead of sleeping (they move the virtual clock)."""
    return clock.sleeps


@pytest.fixture
def retry(clock):
    return RetryPolicy(attempts=3, backoff_seconds=0.5, sleep=clock.sleep)


@pytest.fixture
def no_sleep(monkeypatch, clock):
    """Clients built by app code (from_settings) record delays instead of sleeping."""
    monkeypatch.setattr("integrations.http_retry._sleep", clock.sleep)
    return clock.sleeps


@pytest.fixture
def fake_shopify(settings, no_sleep, clock):
    server = FakeShopify(clock=clock).start()
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


@pytest.fixture
def fake_messaging(live_server, settings):
    """The fake Twilio + SendGrid + Meta, wired into settings, calling back the live server."""
    fake = FakeMessaging(
        public_base_url=live_server.url,
        twilio_auth_token="tw-token",
        meta_app_secret="meta-secret",
        callback_delay=0.05,
    ).start()
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "0" * 32, "tw-token"
    settings.TWILIO_SMS_FROM = settings.TWILIO_WHATSAPP_FROM = "+15559990000"
    settings.TWILIO_API_URL = settings.SENDGRID_API_URL = fake.url
    settings.TWILIO_CONTENT_API_URL = fake.url
    settings.SENDGRID_API_KEY, settings.SENDGRID_EVENT_PUBLIC_KEY = "SG.x", fake.event_public_key
    settings.META_GRAPH_URL, settings.META_PAGE_ACCESS_TOKEN = fake.url, "page"
    settings.META_APP_SECRET = "meta-secret"
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_messaging):
    return fake_messaging


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)
