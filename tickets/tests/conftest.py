import pytest

from accounts.models import Role
from accounts.tests.factories import TeamFactory, UserFactory


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=Role.AGENT)


@pytest.fixture
def other_agent(db):
    return UserFactory(username="other-agent", role=Role.AGENT)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER)


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", role=Role.VIEWER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def team(db):
    return TeamFactory(name="Production", slug="production")
