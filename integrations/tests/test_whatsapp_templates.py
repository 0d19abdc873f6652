"""WhatsApp templates through Twilio's Content API: synced from the fake Content API, filled
from the ticket, sent outside the 24-hour window as ContentSid + ContentVariables; the
customer's answer reopens the window."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import ApplicationError, Conflict
from integrations import message_templates
from integrations.models import MessageTemplate, TemplateApproval
from integrations.tests.channels import customer_writes, wait_for
from integrations.twilio import content
from tickets import services
from tickets.models import DeliveryStatus
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)

WHATSAPP = "+447700900123"
ORDER_UPDATE = "Hi {{1}}, news about your order {{2}}. Reply to this message to continue."


def synced(fake, **extra) -> MessageTemplate:
    sid = fake.add_content(
        friendly_name="Order update",
        body=ORDER_UPDATE,
        variables={"1": "there", "2": "your order"},
        **extra,
    )
    message_templates.sync_message_templates()
    return MessageTemplate.objects.get(sid=sid)


def test_sync_reads_every_page_with_approval_and_keeps_the_mapping(fake, monkeypatch):
    monkeypatch.setattr(content, "PAGE_SIZE", 2)
    approved = synced(fake)
    approved.placeholders = {"1": "customer.first_name"}
    approved.save()
    rejected = fake.add_content(friendly_name="Promo", body="Sale!", approval="rejected")
    fake.add_content(friendly_name="Pending", body="Soon", approval="pending")
    assert message_templates.sync_message_templates() == 3
    rows = {t.friendly_name: t for t in MessageTemplate.objects.all()}
    assert rows["Order update"].approval_status == TemplateApproval.APPROVED
    assert rows["Order update"].placeholders == {"1": "customer.first_name"}
    assert rows["Promo"].approval_status == TemplateApproval.REJECTED
    assert rows["Promo"].rejection_reason
    assert rows["Pending"].approval_status == TemplateApproval.PENDING
    assert message_templates.list_sendable_templates() == [rows["Order update"]]
    del fake.contents[rejected]
    call_command("sync_message_templates")
    assert not MessageTemplate.objects.get(sid=rejected).is_active


def test_template_outside_the_window_reaches_twilio_with_content_sid_and_variables(fake, agent):
    template = synced(fake)
    template.placeholders = {"1": "customer.first_name", "2": "order.number"}
    template.save()
    ticket = TicketFactory(channel="whatsapp", customer=CustomerFactory(name="Jane Doe"))
    customer_writes(
        fake,
        ticket=ticket,
        channel="whatsapp",
        sender=WHATSAPP,
        body="Where is #1001?",
        at=timezone.now() - timedelta(days=2),
    )
    with pytest.raises(ApplicationError) as excinfo:
        services.reply_to_ticket(ticket=ticket, author=agent, body="Free-form")
    assert excinfo.value.code == "whatsapp_window_closed"

    message = message_templates.send_template_reply(
        ticket=ticket, author=agent, template_id=template.pk
    )
    assert message.body == (
        "Hi Jane, news about your order #1001. Reply to this message to continue."
    )
    message = wait_for(message, DeliveryStatus.DELIVERED)
    assert message.delivery_status == DeliveryStatus.DELIVERED
    sent = fake.sent[-1]
    assert sent["request"]["ContentSid"] == template.sid
    assert json.loads(sent["request"]["ContentVariables"]) == {"1": "Jane", "2": "#1001"}
    assert "Body" not in sent["request"] and sent["error_code"] is None

    # The customer answers the template: the window is open again for free-form replies.
    customer_writes(fake, ticket=ticket, channel="whatsapp", sender=WHATSAPP, body="Thanks!")
    reply = services.reply_to_ticket(ticket=ticket, author=agent, body="You're welcome")
    assert wait_for(reply, DeliveryStatus.DELIVERED).delivery_status == DeliveryStatus.DELIVERED


def test_agent_values_override_and_every_variable_is_required(fake, agent):
    template = synced(fake)
    template.sample_variables = {}
    template.save()
    ticket = TicketFactory(channel="whatsapp")
    customer_writes(fake, ticket=ticket, channel="whatsapp", sender=WHATSAPP)
    with pytest.raises(ApplicationError) as excinfo:
        message_templates.send_template_reply(
            ticket=ticket, author=agent, template_id=template.pk, variables={"1": "Sam"}
        )
    assert excinfo.value.code == "template_variables"
    assert list(excinfo.value.fields) == ["variables.2"]
    message = message_templates.send_template_reply(
        ticket=ticket, author=agent, template_id=template.pk, variables={"1": "Sam", "2": "#7"}
    )
    assert message.content_variables == {"1": "Sam", "2": "#7"}


def test_unapproved_template_is_refused(fake, agent):
    template = synced(fake, approval="pending")
    ticket = TicketFactory(channel="whatsapp")
    with pytest.raises(Conflict):
        message_templates.send_template_reply(ticket=ticket, author=agent, template_id=template.pk)


def test_api_sends_a_template_and_lists_the_approved_ones(fake, client, agent):
    template = synced(fake)
    ticket = TicketFactory(channel="whatsapp")
    customer_writes(
        fake,
        ticket=ticket,
        channel="whatsapp",
        sender=WHATSAPP,
        at=timezone.now() - timedelta(days=3),
    )
    client.force_login(agent)
    listed = client.get("/api/whatsapp-templates/").json()
    assert [t["sid"] for t in listed] == [template.sid]
    assert [v["name"] for v in listed[0]["variables"]] == ["1", "2"]
    response = client.post(
        f"/api/tickets/{ticket.reference}/template-messages/",
        {"template": template.pk, "variables": {"2": "#1002"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["content_sid"] == template.sid
    assert response.json()["content_variables"] == {"1": "there", "2": "#1002"}
    missing = client.post(
        f"/api/tickets/{ticket.reference}/template-messages/",
        {"template": 999999},
        content_type="application/json",
    )
    assert missing.status_code == 404
    client.force_login(UserFactory(role=Role.VIEWER))
    forbidden = client.post(
        f"/api/tickets/{ticket.reference}/template-messages/",
        {"template": template.pk},
        content_type="application/json",
    )
    assert forbidden.status_code == 403


def test_admin_queues_a_sync_on_the_bulk_queue_and_edits_only_the_mapping(
    fake, admin_client, database_tasks
):
    template = synced(fake)
    page = admin_client.get("/admin/integrations/messagetemplate/")
    assert "Sync from Twilio now" in page.content.decode()
    assert admin_client.post("/admin/integrations/messagetemplate/sync/").status_code == 302
    queued = DBTaskResult.objects.get(task_path__endswith="sync_message_templates_task")
    assert queued.queue_name == "bulk"
    assert admin_client.get("/admin/integrations/messagetemplate/sync/").status_code == 403
    response = admin_client.post(
        f"/admin/integrations/messagetemplate/{template.pk}/change/",
        {"placeholders": '{"1": "customer.first_name"}', "friendly_name": "Changed"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.placeholders == {"1": "customer.first_name"}
    assert template.friendly_name == "Order update"
