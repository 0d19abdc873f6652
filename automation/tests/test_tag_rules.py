"""Rules tag tickets (`add_tags`) and match on tags (`tags contains`)."""

import pytest
from django.core.exceptions import ValidationError

from automation.models import RuleEvent
from automation.services import run_rules
from automation.tests.factories import RuleFactory
from tickets.models import TicketEvent
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_a_rule_adds_tags_and_the_history_says_so():
    RuleFactory(
        name="Rush orders",
        event=RuleEvent.TICKET_CREATED,
        conditions=[{"field": "subject", "op": "contains", "value": "rush"}],
        actions=[{"type": "add_tags", "tags": ["rush"]}],
    )
    ticket = TicketFactory(subject="RUSH: banners for Friday")
    run = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs[0]
    assert run.performed == ["Tags: rush"]
    assert list(ticket.tags.values_list("name", flat=True)) == ["rush"]
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "name"))
    assert kinds == [("tags", ""), ("rule", "Rush orders")]


def test_a_condition_matches_a_tag():
    RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        conditions=[{"field": "tags", "op": "contains", "value": "#Rush"}],
        actions=[{"type": "set_priority", "priority": "urgent"}],
    )
    tagged, plain = TicketFactory(), TicketFactory()
    tagged.tags.create(name="rush")
    for ticket in (tagged, plain):
        run_rules(event=RuleEvent.TICKET_UPDATED, ticket_id=ticket.pk)
        ticket.refresh_from_db()
    assert (tagged.priority, plain.priority) == ("urgent", "normal")


@pytest.mark.parametrize("bad", [[], "rush", ["two words"], [1]])
def test_add_tags_needs_a_list_of_tag_names(bad):
    rule = RuleFactory.build(actions=[{"type": "add_tags", "tags": bad}])
    with pytest.raises(ValidationError):
        rule.clean()
