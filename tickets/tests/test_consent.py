"""Consent rules (tickets/consent.py): keywords, opt-out bookkeeping, the refusal a reply gets,
the length limit, and how staff see and clear an opt-out (API, pages, admin)."""

import pytest
from rest_framework.test import APIClient

from core.errors import ApplicationError, PermissionDenied
from core.events import capture_events
from tickets import consent, events, services
from tickets.models import IdentityKind, OptOutReason, TicketMessage, TicketStatus
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db

NUMBER = "+15551230001"


@pytest.mark.parametrize(
    ("body", "opt_out_type", "expected"),
    [
        ("STOP", "", "STOP"),
        ("sToP", "", "STOP"),
        ("  cancel\n", "", "STOP"),
        ("stop please", "", None),
        ("Yes", "", "START"),
        ("UNSTOP", "", "START"),
        ("info", "", "HELP"),
        ("BAJA", "STOP", "STOP"),  # an Advanced Opt-Out custom keyword
        ("Where is my order?", "", None),
    ],
)
def test_sms_keywords_match_the_whole_body_in_any_case(body, opt_out_type, expected):
    assert consent.sms_keyword(body=body, opt_out_type=opt_out_type) == expected


def sms_ticket():
    identity = CustomerIdentityFactory(kind=IdentityKind.PHONE, value=NUMBER)
    ticket = TicketFactory(customer=identity.customer, channel="sms", status=TicketStatus.OPEN)
    TicketMessage.objects.create(
        ticket=ticket, direction="in", channel="sms", sender=NUMBER, body="Hi"
    )
    return ticket, identity


def test_opt_out_and_back_in_are_announced():
    _, identity = sms_ticket()
    with capture_events() as published:
        consent.record_opt_out(
            kind="phone", value="+1 555 123 0001", reason=OptOutReason.SMS_STOP, detail="STOP"
        )
        consent.record_opt_out(kind="phone", value=NUMBER, reason=OptOutReason.SMS_STOP)
        consent.record_opt_in(kind="phone", value=NUMBER, reasons=(OptOutReason.SMS_STOP,))
    assert [(type(e), e.is_opted_out, e.reason) for e in published] == [
        (events.ConsentChanged, True, "sms_stop"),
        (events.ConsentChanged, False, "sms_stop"),
    ]
    identity.refresh_from_db()
    assert identity.opted_out_at is None


def test_unknown_addresses_are_not_recorded():
    assert consent.record_opt_out(kind="phone", value=NUMBER, reason="sms_stop") is None
    assert consent.record_opt_out(kind="phone", value="not a number", reason="sms_stop") is None


def test_a_reply_on_another_channel_still_goes(agent):
    ticket, identity = sms_ticket()
    CustomerIdentityFactory(customer=identity.customer, kind="email", value="jane@example.com")
    consent.record_opt_out(kind="phone", value=NUMBER, reason=OptOutReason.SMS_STOP)
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="Hi", channel="email")
    assert message.channel == "email"


def test_an_sms_reply_over_1600_characters_is_refused_before_it_is_stored(agent):
    ticket, _ = sms_ticket()
    with pytest.raises(ApplicationError) as refused:
        services.reply_to_ticket(ticket=ticket, author=agent, body="x" * 1601, channel="sms")
    assert refused.value.code == "body_too_long" and "1,600" in refused.value.message
    services.reply_to_ticket(ticket=ticket, author=agent, body="x" * 1600, channel="sms")


def test_only_admins_clear_an_opt_out(agent, manager, admin_user):
    _, identity = sms_ticket()
    consent.record_opt_out(kind="phone", value=NUMBER, reason=OptOutReason.SMS_STOP)
    for staff in (agent, manager):
        with pytest.raises(PermissionDenied):
            consent.clear_opt_out(identity=identity, actor=staff)
    with capture_events() as published:
        consent.clear_opt_out(identity=identity, actor=admin_user)
    assert published[0].actor_id == admin_user.pk and not published[0].is_opted_out
    identity.refresh_from_db()
    assert identity.opted_out_at is None


def test_api_and_pages_show_the_opt_out(agent, client):
    ticket, identity = sms_ticket()
    consent.record_opt_out(
        kind="phone", value=NUMBER, reason=OptOutReason.SMS_STOP, detail="Texted 'STOP'"
    )
    api = APIClient()
    api.force_authenticate(agent)
    [opt_out] = api.get(f"/api/tickets/{ticket.reference}/").json()["opt_outs"]
    assert (opt_out["channel"], opt_out["address"], opt_out["reason"]) == (
        "sms",
        NUMBER,
        "sms_stop",
    )
    customer = api.get(f"/api/customers/{identity.customer_id}/").json()
    assert customer["identities"][0]["opt_out_reason"] == "sms_stop"

    refused = api.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "Hi", "channel": "sms"},
        format="json",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "recipient_opted_out"

    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "No SMS:" in page and "texted an opt-out keyword" in page.lower()
    assert '<option value="sms" disabled>SMS (opted out)</option>' in page
    assert "opted out" in client.get(f"/customers/{identity.customer_id}/").content.decode()


def test_admin_lists_and_clears_suppressions(admin_user, client):
    identity = CustomerIdentityFactory(kind="email", value="jane@example.com")
    consent.record_opt_out(kind="email", value=identity.value, reason="email_spam_report")
    client.force_login(admin_user)
    listing = client.get("/admin/tickets/customeridentity/?opted_out=yes").content.decode()
    assert "jane@example.com" in listing
    response = client.post(
        "/admin/tickets/customeridentity/",
        {"action": "clear_opt_outs", "_selected_action": [identity.pk]},
        follow=True,
    )
    assert "Cleared 1 opt-out(s)." in response.content.decode()
    identity.refresh_from_db()
    assert identity.opted_out_at is None
