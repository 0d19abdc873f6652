"""The ticket page and API show each channel's messaging window; the composer offers only what
can be sent (a closed WhatsApp window offers the approved templates)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.models import MessageTemplate, TemplateApproval
from tickets import services
from tickets.consent import list_channel_opt_outs
from tickets.models import TicketMessage
from tickets.policy import list_send_decisions
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    user = UserFactory(role=Role.AGENT)
    client.force_login(user)
    return user


def wrote(ticket, channel: str, sender: str, *, ago: timedelta, body: str = "Hi") -> None:
    message = services.record_inbound_message(
        ticket=ticket, channel=channel, sender=sender, body=body
    )
    TicketMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - ago)


def template(**extra) -> MessageTemplate:
    return MessageTemplate.objects.create(
        sid="HX" + "a" * 32,
        friendly_name="Order update",
        body="Hi {{1}}, news about {{2}}.",
        placeholders={"1": "customer.first_name", "2": "order.number"},
        approval_status=TemplateApproval.APPROVED,
        **extra,
    )


def test_open_whatsapp_window_says_when_it_closes(client, agent):
    ticket = TicketFactory(channel="whatsapp")
    wrote(ticket, "whatsapp", "+447700900123", ago=timedelta(hours=21, minutes=1))
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "WhatsApp window closes in 2 h" in page
    assert "send a template" not in page


def test_closed_whatsapp_window_offers_templates_filled_from_the_ticket(client, agent):
    approved = template()
    ticket = TicketFactory(channel="whatsapp", customer=CustomerFactory(name="Jane Doe"))
    wrote(ticket, "whatsapp", "+447700900123", ago=timedelta(days=2), body="Order #1001?")
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "WhatsApp window closed — send a template" in page
    assert "(window closed — template only)" in page
    assert 'name="var_1" value="Jane"' in page
    assert 'name="var_2" value="#1001"' in page
    response = client.post(
        f"/tickets/{ticket.reference}/whatsapp-template/",
        {"template": approved.pk, "var_1": "Jane", "var_2": "#1001"},
    )
    assert response.status_code == 302
    sent = TicketMessage.objects.get(direction="out")
    assert (sent.content_sid, sent.content_variables) == (approved.sid, {"1": "Jane", "2": "#1001"})
    assert sent.body == "Hi Jane, news about #1001."


def test_template_picker_refuses_viewers_and_unknown_templates(client, agent):
    ticket = TicketFactory(channel="whatsapp")
    assert (
        client.post(
            f"/tickets/{ticket.reference}/whatsapp-template/", {"template": "x"}
        ).status_code
        == 404
    )
    client.force_login(UserFactory(role=Role.VIEWER))
    approved = template()
    response = client.post(
        f"/tickets/{ticket.reference}/whatsapp-template/", {"template": approved.pk}
    )
    assert response.status_code == 403
    assert not TicketMessage.objects.filter(direction="out").exists()


def test_messenger_day_3_shows_the_human_agent_tag_and_day_8_refuses(client, agent):
    ticket = TicketFactory(channel="facebook")
    wrote(ticket, "facebook", "4242", ago=timedelta(days=3))
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Facebook Messenger: human-agent tag until" in page
    assert "(human-agent tag)" in page
    TicketMessage.objects.filter(ticket=ticket).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Facebook Messenger window closed — wait for the customer to write" in page
    assert "within 7 days" in page
    response = client.post(
        f"/tickets/{ticket.reference}/reply/", {"body": "Still there?", "channel": "facebook"}
    )
    assert "within 7 days" in response.content.decode()
    assert not TicketMessage.objects.filter(direction="out").exists()


def test_ticket_api_exposes_the_window_state(client, agent):
    ticket = TicketFactory(channel="facebook")
    wrote(ticket, "facebook", "4242", ago=timedelta(days=3))
    windows = {
        w["channel"]: w
        for w in client.get(f"/api/tickets/{ticket.reference}/").json()["send_windows"]
    }
    facebook = windows["facebook"]
    assert facebook["state"] == "human_agent"
    assert facebook["action"] == "send_with_tag" and facebook["tag"] == "HUMAN_AGENT"
    assert facebook["closes_at"]
    # Never wrote on WhatsApp: no address there, so not even a template can go.
    assert windows["whatsapp"]["state"] == "closed"
    assert windows["whatsapp"]["action"] == "refused"
    assert windows["whatsapp"]["code"] == "no_reply_address"
    assert windows["email"] == windows["email"] | {"state": "unrestricted", "action": "send"}


def test_composer_defaults_to_a_channel_a_reply_can_go_on(client, agent):
    ticket = TicketFactory(channel="whatsapp")
    wrote(ticket, "facebook", "4242", ago=timedelta(days=3))
    wrote(ticket, "whatsapp", "+447700900123", ago=timedelta(days=2))
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert '<option value="facebook" selected>Facebook Messenger (human-agent tag)</option>' in page


def test_a_customer_who_never_wrote_on_whatsapp_is_not_offered_templates(client, agent):
    template()
    ticket = TicketFactory(channel="email")
    wrote(ticket, "email", "jane@example.com", ago=timedelta(hours=1))
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "send a template" not in page
    assert "WhatsApp (no address)" in page


def test_a_template_to_a_customer_without_a_whatsapp_address_is_refused(client, agent):
    approved = template()
    ticket = TicketFactory(channel="email")
    wrote(ticket, "email", "jane@example.com", ago=timedelta(hours=1))
    response = client.post(
        f"/api/tickets/{ticket.reference}/template-messages/",
        {"template": approved.pk},
        content_type="application/json",
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "no_reply_address"
    assert not ticket.messages.filter(channel="whatsapp").exists()


def test_windows_and_opt_outs_of_every_channel_are_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    ticket = TicketFactory(channel="whatsapp")
    for channel, sender in [
        ("whatsapp", "+447700900123"),
        ("facebook", "4242"),
        ("email", "jane@example.com"),
        ("sms", "+447700900123"),
    ]:
        wrote(ticket, channel, sender, ago=timedelta(hours=2))
    # Reach (addresses 2, last inbound 1, opt-outs 1), then opt-outs again (addresses 2, 1).
    with django_assert_max_num_queries(7):
        decisions = list_send_decisions(ticket=ticket)
        list_channel_opt_outs(ticket=ticket)
    assert {d.window.channel for d in decisions if d.is_allowed} >= {"whatsapp", "facebook"}
