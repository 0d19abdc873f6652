import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import ApplicationError, PermissionDenied
from tickets import services
from tickets.identities import normalize_identity
from tickets.models import DeliveryStatus, IdentityKind, Ticket, TicketMessage, TicketStatus
from tickets.tests.factories import OutboundMessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "raw", "normalized"),
    [
        (IdentityKind.EMAIL, "  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        (IdentityKind.PHONE, "+44 7700 900-123", "+447700900123"),
        (IdentityKind.WHATSAPP, "whatsapp:+447700900123", "+447700900123"),
        (IdentityKind.PHONE, "0044 7700 900123", "+447700900123"),
        (IdentityKind.INSTAGRAM, "17841400000000001", "17841400000000001"),
    ],
)
def test_normalize_identity(kind, raw, normalized):
    assert normalize_identity(kind=kind, value=raw) == normalized


@pytest.mark.parametrize(
    ("kind", "raw"),
    [(IdentityKind.EMAIL, "not-an-email"), (IdentityKind.PHONE, "07700 900123"), ("fax", "1")],
)
def test_normalize_identity_rejects_garbage(kind, raw):
    with pytest.raises(ApplicationError):
        normalize_identity(kind=kind, value=raw)


def test_find_or_create_customer_reuses_identity_whatever_the_spelling():
    first = services.find_or_create_customer(kind=IdentityKind.EMAIL, value="A@Example.com")
    second = services.find_or_create_customer(kind=IdentityKind.EMAIL, value="a@example.com ")
    assert first == second


def test_open_ticket_sets_reference_and_sla(django_capture_on_commit_callbacks):
    customer = services.find_or_create_customer(kind=IdentityKind.EMAIL, value="c@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.open_ticket(customer=customer, channel="email", subject="Banner")
    ticket.refresh_from_db()
    assert ticket.reference == f"PD-{1000 + ticket.pk}"
    assert ticket.status == TicketStatus.NEW
    assert ticket.due_at is not None


def test_open_ticket_by_viewer_is_refused():
    customer = services.find_or_create_customer(kind=IdentityKind.EMAIL, value="c@example.com")
    with pytest.raises(PermissionDenied):
        services.open_ticket(
            customer=customer, channel="email", subject="x", opened_by=UserFactory(role=Role.VIEWER)
        )


def test_inbound_replay_of_provider_message_is_a_no_op():
    ticket = TicketFactory(channel="sms")
    kwargs = dict(channel="sms", sender="+447700900123", body="hi", provider="twilio")
    first = services.record_inbound_message(ticket=ticket, provider_message_id="SM1", **kwargs)
    again = services.record_inbound_message(ticket=ticket, provider_message_id="SM1", **kwargs)
    assert first.pk == again.pk
    assert TicketMessage.objects.count() == 1


def test_inbound_on_solved_ticket_reopens_it():
    ticket = TicketFactory(status=TicketStatus.SOLVED)
    services.record_inbound_message(ticket=ticket, channel="email", sender="a@b.co", body="again")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_inbound_on_closed_ticket_opens_linked_follow_up():
    ticket = TicketFactory(status=TicketStatus.CLOSED)
    message = services.record_inbound_message(
        ticket=ticket, channel="email", sender="a@b.co", body="one more thing"
    )
    assert message.ticket != ticket
    assert message.ticket.follow_up_of == ticket
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_reply_queues_message_and_sets_first_response(django_capture_on_commit_callbacks):
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(channel="whatsapp")
    services.record_inbound_message(ticket=ticket, channel="sms", sender="+447700900123", body="?")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.reply_to_ticket(ticket=ticket, author=agent, body="On its way")
    ticket.refresh_from_db()
    message.refresh_from_db()
    assert message.channel == "sms"  # the channel the customer last wrote on
    assert ticket.first_response_at is not None
    assert ticket.status == TicketStatus.OPEN
    # No provider credentials in tests: the router delivers to the sandbox.
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert message.is_sandbox


def test_viewer_cannot_reply():
    with pytest.raises(PermissionDenied):
        services.reply_to_ticket(
            ticket=TicketFactory(), author=UserFactory(role=Role.VIEWER), body="hello"
        )


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),
        (["read", "delivered"], "read"),
        (["sent", "failed"], "failed"),
        (["delivered", "failed"], "delivered"),
        (["failed", "sent"], "failed"),
    ],
)
def test_delivery_status_only_moves_forward(sequence, final):
    message = OutboundMessageFactory(
        delivery_status=DeliveryStatus.QUEUED, provider="twilio", provider_message_id="SM9"
    )
    for status in sequence:
        services.update_delivery_status(
            provider="twilio", provider_message_id="SM9", status=status, error_code="30003"
        )
    message.refresh_from_db()
    assert message.delivery_status == final


def test_automated_message_leaves_status_and_first_response_alone(
    django_capture_on_commit_callbacks,
):
    ticket = TicketFactory(status=TicketStatus.SOLVED, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_automated_message(ticket=ticket, body="How did we do?")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert ticket.first_response_at is None
    assert message.is_automated and message.author is None


def test_whatsapp_reply_outside_24h_window_is_refused(time_machine):
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(channel="whatsapp")
    time_machine.move_to("2026-01-01 10:00Z")
    services.record_inbound_message(
        ticket=ticket, channel="whatsapp", sender="+447700900123", body="hi"
    )
    time_machine.move_to("2026-01-02 09:00Z")
    services.reply_to_ticket(ticket=ticket, author=agent, body="within the window")
    time_machine.move_to("2026-01-02 11:00Z")
    with pytest.raises(ApplicationError) as excinfo:
        services.reply_to_ticket(ticket=ticket, author=agent, body="too late")
    assert excinfo.value.code == "whatsapp_window_closed"
    services.reply_to_ticket(ticket=ticket, author=agent, body="by sms", channel="sms")
