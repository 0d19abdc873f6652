"""Deleting a customer, a staff member or a ticket never deletes conversation history."""

import pytest
from django.apps import apps
from django.db import models
from django.db.models import ProtectedError

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from comms.models import ChannelMessage
from comms.tests.factories import ChannelMessageFactory
from tickets.models import Customer, InternalNote, Ticket, TicketMessage
from tickets.tests.factories import (
    InternalNoteFactory,
    OutboundMessageFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

# Rows that may go with what they point at: they are not conversation history (identities,
# credentials, memberships, live state, per-user inbox items) or are derived from history that
# stays (assignments and SLA clocks of a ticket, which itself cannot be deleted once it has a
# message). A new CASCADE onto Customer, User or Ticket must be added here deliberately.
CASCADE_ALLOWED = {
    ("tickets.CustomerIdentity", "customer"),
    ("tickets.TicketAssignment", "ticket"),
    ("tickets.TicketEvent", "ticket"),
    ("tickets.Escalation", "ticket"),
    ("tickets.AgentHandoff", "ticket"),
    ("tickets.TicketView", "user"),
    ("tickets.SavedView", "owner"),
    ("tickets.TicketView", "ticket"),
    ("accounts.ApiToken", "owner"),
    ("accounts.RecoveryCode", "user"),
    ("accounts.UserSession", "user"),
    ("accounts.TokenFamily", "user"),
    ("otp_totp.TOTPDevice", "user"),
    # Django's own: the admin log of a deleted user goes with them. Staff are deactivated, not
    # deleted (their messages PROTECT them), and the audit log keeps actor names.
    ("admin.LogEntry", "user"),
    ("comms.ChannelMember", "user"),
    ("comms.Mention", "mentioned_user"),
    ("comms.Notification", "recipient"),
    # The delivery state of a person's notification emails, like their notifications.
    ("comms.EmailDigest", "recipient"),
    ("comms.StaffPresence", "user"),
    ("comms.PresenceConnection", "user"),
    ("comms.TicketViewer", "user"),
    ("analytics.ConversationLog", "ticket"),
    ("analytics.CustomerSatisfaction", "ticket"),
    ("automation.RuleRun", "ticket"),
    ("automation.TicketSla", "ticket"),
    ("printshop.TicketOrder", "ticket"),
    # A reply waiting for its time is not history yet: once sent it is a TicketMessage.
    ("tickets.ScheduledReply", "ticket"),
    # The link of a chat thread to its ticket; the chat messages themselves stay.
    ("comms.TicketDiscussion", "ticket"),
}


def test_only_non_history_rows_cascade_from_customers_staff_and_tickets():
    targets = {Customer, User, Ticket}
    cascading = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey | models.OneToOneField)
        and field.related_model in targets
        and field.remote_field.on_delete is models.CASCADE
        and field.model is model
    }
    assert cascading - CASCADE_ALLOWED == set()


def test_a_customer_with_tickets_cannot_be_deleted():
    message = TicketMessageFactory()
    with pytest.raises(ProtectedError):
        message.ticket.customer.delete()
    assert TicketMessage.objects.filter(pk=message.pk).exists()


def test_a_ticket_with_messages_cannot_be_deleted():
    message = TicketMessageFactory()
    with pytest.raises(ProtectedError):
        message.ticket.delete()
    assert Ticket.objects.filter(pk=message.ticket_id).exists()


def test_staff_who_wrote_replies_notes_or_chat_cannot_be_deleted():
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    reply = OutboundMessageFactory(ticket=ticket, author=agent)
    note = InternalNoteFactory(ticket=ticket, author=agent)
    chat = ChannelMessageFactory(author=agent)

    with pytest.raises(ProtectedError):
        agent.delete()

    assert TicketMessage.objects.filter(pk=reply.pk).exists()
    assert InternalNote.objects.filter(pk=note.pk).exists()
    assert ChannelMessage.objects.filter(pk=chat.pk).exists()


def test_deleting_an_assignee_keeps_the_ticket_and_unassigns_it():
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(assignee=agent)
    agent.delete()
    ticket.refresh_from_db()
    assert ticket.assignee is None
