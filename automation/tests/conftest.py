"""Fake PERP on loopback, staff helpers and the seeded automation data."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import Role
from accounts.tests.factories import TeamFactory, UserFactory
from automation.tests.webhook_receiver import Receiver
from comms.models import PresenceStatus, StaffPresence
from integrations.fakes.perp import FakePerp


@pytest.fixture
def fake_perp(settings, monkeypatch):
    monkeypatch.setattr("integrations.http_retry._sleep", lambda seconds: None)
    server = FakePerp().start()
    settings.PERP_API_URL = server.url
    settings.PERP_API_KEY = server.api_key
    yield server
    server.stop()


@pytest.fixture
def sales(db):
    return TeamFactory(name="Sales", slug="sales")


@pytest.fixture
def make_agent(db):
    def make(*, team=None, online: bool = True, **kwargs):
        agent = UserFactory(role=Role.AGENT, **kwargs)
        if team is not None:
            team.members.add(agent)
        StaffPresence.objects.update_or_create(
            user=agent,
            defaults={"status": PresenceStatus.ONLINE if online else PresenceStatus.OFFLINE},
        )
        return agent

    return make


@pytest.fixture
def manager(db):
    user = UserFactory(role=Role.MANAGER)
    assert Group.objects.get(name=Role.MANAGER) in user.groups.all()
    return user


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
