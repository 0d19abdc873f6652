"""The automation account: created with its permissions once, then only read."""

import pytest

from accounts.models import User
from accounts.permissions import Action, can
from accounts.services import AUTOMATION_PERMISSIONS, get_automation_actor

pytestmark = pytest.mark.django_db


def test_it_is_created_once_with_exactly_the_rule_permissions():
    actor = get_automation_actor()
    assert (actor.username, actor.display_name, actor.has_usable_password()) == (
        "automation",
        "Automation",
        False,
    )
    assert all(can(actor, action) for action in AUTOMATION_PERMISSIONS)
    assert not can(actor, Action.REPLY_TICKET)
    assert get_automation_actor().pk == actor.pk
    assert User.objects.filter(username="automation").count() == 1


def test_later_calls_are_one_read_and_grant_nothing(django_assert_num_queries):
    get_automation_actor()
    with django_assert_num_queries(1):
        get_automation_actor()
