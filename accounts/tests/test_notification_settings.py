"""Each person's own notification settings page (issue 23): emails while offline, and the
control that asks the browser for desktop notifications."""

import pytest

from accounts.models import NotificationEmails, Role
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/accounts/notifications/"


@pytest.fixture
def agent():
    return UserFactory(username="ana", role=Role.AGENT)


def test_the_page_shows_the_choice_and_the_desktop_control(client, agent):
    client.force_login(agent)
    html = client.get(URL).content.decode()
    assert 'value="digest" required id="id_notification_emails_1" checked>' in html
    assert 'value="off" required id="id_notification_emails_0">' in html
    assert "data-desktop-notifications-enable" in html
    assert f'href="{URL}" aria-current="page"' in html


def test_turning_emails_off_changes_only_ones_own_setting(client, agent):
    colleague = UserFactory(username="ben", role=Role.AGENT)
    client.force_login(agent)
    response = client.post(URL, {"notification_emails": NotificationEmails.OFF})
    assert response.status_code == 302 and response.url == URL
    agent.refresh_from_db()
    colleague.refresh_from_db()
    assert agent.notification_emails == NotificationEmails.OFF
    assert colleague.notification_emails == NotificationEmails.DIGEST


def test_an_unknown_choice_is_refused(client, agent):
    client.force_login(agent)
    response = client.post(URL, {"notification_emails": "hourly"})
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.notification_emails == NotificationEmails.DIGEST


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url
