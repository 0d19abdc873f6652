"""Rules read ticket fields (`field.<key>`) and customer fields (`customer_field.<key>`), and set
ticket fields (`set_field`) (issue 23)."""

import pytest
from django.core.exceptions import ValidationError

from automation.models import RuleEvent
from automation.services import run_rules
from automation.tests.factories import RuleFactory
from tickets.models import CustomField, CustomFieldTarget, TicketEvent
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fields():
    CustomField.objects.create(
        key="reprint_reason",
        label="Reprint reason",
        kind="choice",
        choices=["misprint", "damaged in transit", "customer error"],
    )
    CustomField.objects.create(key="copies", label="Copies", kind="number")
    CustomField.objects.create(
        key="account",
        label="Account type",
        kind="choice",
        choices=["retail", "wholesale"],
        applies_to=CustomFieldTarget.CUSTOMER,
    )


def test_a_rule_sets_reprint_reason_when_the_subject_says_misprint():
    RuleFactory(
        name="Misprints",
        event=RuleEvent.TICKET_CREATED,
        conditions=[{"field": "subject", "op": "contains", "value": "misprint"}],
        actions=[
            {"type": "set_field", "field": "reprint_reason", "value": "misprint"},
            {"type": "add_tags", "tags": ["reprint"]},
        ],
    )
    ticket = TicketFactory(subject="Misprint on my banner")
    run = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs[0]
    assert run.performed == ["reprint_reason set to misprint", "Tags: reprint"]
    assert run.error == ""
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"reprint_reason": "misprint"}
    history = TicketEvent.objects.filter(ticket=ticket, kind="field").get()
    assert (history.name, history.before, history.after) == ("reprint_reason", None, "misprint")


def test_a_ticket_field_condition_tags_and_a_customer_field_condition_sets_priority():
    RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        position=1,
        conditions=[{"field": "field.reprint_reason", "op": "equals", "value": "misprint"}],
        actions=[{"type": "add_tags", "tags": ["reprint"]}],
    )
    RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        position=2,
        conditions=[{"field": "customer_field.account", "op": "equals", "value": "wholesale"}],
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    wholesale = CustomerFactory(custom_fields={"account": "wholesale"})
    matching = TicketFactory(customer=wholesale, custom_fields={"reprint_reason": "misprint"})
    other = TicketFactory(
        customer=CustomerFactory(custom_fields={"account": "retail"}),
        custom_fields={"reprint_reason": "customer error"},
    )
    for ticket in (matching, other):
        run_rules(event=RuleEvent.TICKET_UPDATED, ticket_id=ticket.pk)
        ticket.refresh_from_db()
    assert list(matching.tags.values_list("name", flat=True)) == ["reprint"]
    assert matching.priority == "high"
    assert (list(other.tags.all()), other.priority) == ([], "normal")


def test_is_set_on_a_customer_field():
    RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        conditions=[{"field": "customer_field.account", "op": "is_unset"}],
        actions=[{"type": "add_tags", "tags": ["new-account"]}],
    )
    unknown = TicketFactory()
    known = TicketFactory(customer=CustomerFactory(custom_fields={"account": "retail"}))
    for ticket in (unknown, known):
        run_rules(event=RuleEvent.TICKET_UPDATED, ticket_id=ticket.pk)
    assert list(unknown.tags.values_list("name", flat=True)) == ["new-account"]
    assert not known.tags.exists()


def test_set_field_of_a_field_removed_since_is_the_run_error():
    RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        actions=[{"type": "set_field", "field": "copies", "value": "2"}],
    )
    CustomField.objects.filter(key="copies").update(is_active=False)
    ticket = TicketFactory()
    run = run_rules(event=RuleEvent.TICKET_UPDATED, ticket_id=ticket.pk).runs[0]
    assert run.error.startswith("set_field:")
    ticket.refresh_from_db()
    assert ticket.custom_fields == {}


@pytest.mark.parametrize(
    "conditions, actions",
    [
        ([{"field": "field.account", "op": "equals", "value": "retail"}], None),
        ([{"field": "customer_field.copies", "op": "equals", "value": "2"}], None),
        ([{"field": "field.reprint_reason", "op": "equals", "value": "typo"}], None),
        ([{"field": "field.copies", "op": "equals", "value": "2.0"}], None),
        ([{"field": "field.copies", "op": "in", "value": ["2"]}], None),
        (None, [{"type": "set_field", "field": "account", "value": "retail"}]),
        (None, [{"type": "set_field", "field": "copies", "value": "many"}]),
        (None, [{"type": "set_field", "field": "copies"}]),
        (None, [{"type": "set_field", "field": "copies", "value": 2}]),
    ],
)
def test_field_conditions_and_set_field_are_validated(conditions, actions):
    rule = RuleFactory.build(
        conditions=conditions or [],
        actions=actions or [{"type": "add_tags", "tags": ["x"]}],
    )
    with pytest.raises(ValidationError):
        rule.clean()


def test_valid_field_rules_pass_validation():
    RuleFactory.build(
        conditions=[
            {"field": "field.copies", "op": "equals", "value": "2"},
            {"field": "customer_field.account", "op": "not_equals", "value": "retail"},
            {"field": "field.reprint_reason", "op": "is_set"},
        ],
        actions=[
            {"type": "set_field", "field": "reprint_reason", "value": "misprint"},
            {"type": "set_field", "field": "copies", "value": ""},
        ],
    ).clean()
