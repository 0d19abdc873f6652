"""SLA deadlines in business time, the idempotent breach check, ship dates from the fake PERP."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from automation.models import RuleEvent, RuleRun, SlaPolicy, TicketSla
from automation.sla import production_is_at_risk, refresh_ticket_sla, run_sla_checks
from automation.tests.factories import HolidayFactory, RuleFactory, SlaPolicyFactory
from comms.models import ChannelMessage, Notification
from integrations.fakes import demo_data
from integrations.perp.client import PerpClient
from integrations.perp.types import ProductionJob
from printshop.tests.factories import TicketOrderFactory
from tickets.models import ChannelKind, IdentityKind, MessageDirection
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def policy():
    SlaPolicy.objects.all().delete()  # the seeded defaults
    return SlaPolicyFactory(priority="normal")


def test_deadlines_are_in_business_time(policy):
    HolidayFactory(calendar=policy.calendar, date=datetime(2026, 11, 30).date())
    with time_machine.travel(london(2026, 11, 27, 16, 30), tick=False):  # Friday afternoon
        ticket = TicketFactory()
        sla = refresh_ticket_sla(ticket_id=ticket.pk)

    # 30 min on Friday, Monday is a holiday, the rest on Tuesday.
    assert sla.first_response_due_at == london(2026, 12, 1, 9, 30)
    assert sla.resolution_due_at == london(2026, 12, 1, 16, 30)
    assert sla.next_response_due_at is None
    assert sla.policy == policy


def test_a_channel_policy_wins_over_the_general_one(policy):
    whatsapp = SlaPolicyFactory(
        priority="normal", channel=ChannelKind.WHATSAPP, calendar=policy.calendar
    )
    ticket = TicketFactory(channel=ChannelKind.WHATSAPP)
    assert refresh_ticket_sla(ticket_id=ticket.pk).policy == whatsapp
    assert refresh_ticket_sla(ticket_id=TicketFactory().pk).policy == policy


def test_next_response_clock_runs_while_the_customer_waits(policy):
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        ticket = TicketFactory()
        TicketMessageFactory(ticket=ticket, direction=MessageDirection.OUTBOUND, is_automated=False)
        ticket.first_response_at = timezone.now()
        ticket.save()
    with time_machine.travel(london(2026, 11, 23, 16, 0), tick=False):
        ticket.last_customer_message_at = timezone.now()
        ticket.save()
        sla = refresh_ticket_sla(ticket_id=ticket.pk)
    assert sla.next_response_due_at == london(2026, 11, 24, 10, 0)
    with time_machine.travel(london(2026, 11, 23, 16, 30), tick=False):
        TicketMessageFactory(ticket=ticket, direction=MessageDirection.OUTBOUND)
        assert refresh_ticket_sla(ticket_id=ticket.pk).next_response_due_at is None


def test_breach_check_warns_then_breaches_once_and_fires_rules(
    policy, make_agent, django_capture_on_commit_callbacks
):
    agent = make_agent()
    RuleFactory(
        event=RuleEvent.SLA_BREACHED, actions=[{"type": "add_note", "body": "Breached: call back"}]
    )
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        ticket = TicketFactory(assignee=agent, status="open")
        refresh_ticket_sla(ticket_id=ticket.pk)

    with time_machine.travel(london(2026, 11, 23, 10, 45), tick=False):
        first = run_sla_checks()
        again = run_sla_checks()
    assert first.warned == [(ticket.pk, "first_response")] and first.breached == []
    assert again.warned == []

    with (
        time_machine.travel(london(2026, 11, 23, 11, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        breached = run_sla_checks()
        repeated = run_sla_checks()
    assert breached.breached == [(ticket.pk, "first_response")]
    assert repeated.breached == []
    sla = TicketSla.objects.get(ticket=ticket)
    assert sla.first_response_breached_at == london(2026, 11, 23, 11, 5)
    titles = list(Notification.objects.filter(recipient=agent).values_list("title", flat=True))
    assert sorted(titles) == [
        f"SLA breached: first response on {ticket.reference}",
        f"SLA warning: first response on {ticket.reference} is due soon",
    ]
    assert RuleRun.objects.filter(ticket=ticket, event="sla.breached").count() == 1
    assert list(ticket.notes.values_list("body", flat=True)) == ["Breached: call back"]


def test_answered_and_solved_tickets_do_not_breach(policy):
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        answered = TicketFactory(first_response_at=timezone.now())
        solved = TicketFactory(status="solved")
        for ticket in (answered, solved):
            refresh_ticket_sla(ticket_id=ticket.pk)
    with time_machine.travel(london(2026, 11, 30, 10, 0), tick=False):
        report = run_sla_checks()
    assert report.breached == [(answered.pk, "resolution")]


def test_the_check_creates_missing_sla_state(policy):
    ticket = TicketFactory()
    assert run_sla_checks().refreshed == 1
    assert TicketSla.objects.filter(ticket=ticket, policy=policy).exists()


# Ship dates -------------------------------------------------------------------------------------


def perp_ticket(customer: int, *, subject: str):
    identity = CustomerIdentityFactory(
        kind=IdentityKind.EMAIL, value=f"demo.customer.{customer}@example.com"
    )
    return TicketFactory(customer=identity.customer, subject=subject)


def test_a_ticket_about_a_perp_order_is_due_before_its_ship_date(fake_perp, policy):
    policy.resolution_minutes = 100 * 510
    policy.save()
    number = demo_data.perp_order_number(1015)  # customer 5's newest order, in printing
    ticket = perp_ticket(5, subject=f"Any news on {number}?")

    sla = refresh_ticket_sla(ticket_id=ticket.pk, link_order=True)

    promised = demo_data.order_facts(1015)["created_at"] + timedelta(days=7)
    assert (sla.perp_order_id, sla.perp_order_number) == ("ord_1015", number)
    assert sla.promised_ship_at == promised
    assert sla.resolution_due_at == promised - timedelta(minutes=policy.ship_date_margin_minutes)


def test_production_that_cannot_make_the_date_raises_priority_and_tells_production(
    fake_perp, policy
):
    at_risk = perp_ticket(4, subject=f"Is {demo_data.perp_order_number(1011)} on time?")  # prepress
    on_track = perp_ticket(5, subject=f"Is {demo_data.perp_order_number(1015)} on time?")
    for ticket in (at_risk, on_track):
        refresh_ticket_sla(ticket_id=ticket.pk, link_order=True)

    report = run_sla_checks()
    assert run_sla_checks().production_risks == []

    assert report.production_risks == [at_risk.pk]
    at_risk.refresh_from_db()
    on_track.refresh_from_db()
    assert (at_risk.priority, on_track.priority) == ("high", "normal")
    [post] = ChannelMessage.objects.filter(channel__slug="production")
    assert "PD-ORD-10011 is at prepress" in post.body and at_risk.reference in post.body


def test_production_risk_rules():
    promised = london(2026, 12, 4, 12, 0)
    now = london(2026, 12, 2, 12, 0)

    def job(stage, status="in_progress", ready=None):
        return ProductionJob(
            id="j", name="Flyers", stage=stage, status=status, estimated_ready_at=ready
        )

    assert production_is_at_risk(jobs=[job("prepress")], promised_ship_at=promised, now=now)
    assert not production_is_at_risk(jobs=[job("finishing")], promised_ship_at=promised, now=now)
    assert production_is_at_risk(
        jobs=[job("packing", ready=london(2026, 12, 5))], promised_ship_at=promised, now=now
    )
    assert not production_is_at_risk(
        jobs=[job("prepress", status="done")], promised_ship_at=promised, now=now
    )


def test_an_order_linked_to_the_ticket_wins_over_one_only_mentioned(fake_perp, policy):
    mentioned = demo_data.perp_order_number(1011)  # another open order, only quoted
    ticket = perp_ticket(5, subject=f"Same as {mentioned}?")
    TicketOrderFactory(ticket=ticket, number=demo_data.perp_order_number(1015))

    sla = refresh_ticket_sla(ticket_id=ticket.pk, link_order=True)

    assert sla.perp_order_number == demo_data.perp_order_number(1015)


def test_a_completed_order_sets_no_ship_date(fake_perp, policy):
    shipped = demo_data.perp_order_number(1014)  # customer 5's older order: completed
    ticket = perp_ticket(5, subject=f"Reprint of {shipped}?")
    sla = refresh_ticket_sla(ticket_id=ticket.pk, link_order=True)
    assert (sla.perp_order_number, sla.promised_ship_at) == ("", None)


def test_the_perp_lookup_runs_before_the_sla_row_is_locked(fake_perp, policy, monkeypatch):
    """No HTTP while holding the lock: when PERP is asked, the SLA row does not exist yet
    (it is created and locked in `_apply_ticket_sla`, after the lookup)."""
    number = demo_data.perp_order_number(1015)
    ticket = perp_ticket(5, subject=f"Any news on {number}?")
    search = PerpClient.search_order_by_number
    row_existed_during_lookup = []

    def spy(client, order_number):
        row_existed_during_lookup.append(TicketSla.objects.filter(ticket=ticket).exists())
        return search(client, order_number)

    monkeypatch.setattr(PerpClient, "search_order_by_number", spy)
    sla = refresh_ticket_sla(ticket_id=ticket.pk, link_order=True)
    assert row_existed_during_lookup == [False]
    assert sla.perp_order_number == number
