"""Ticket writes: one function per use case, each transactional, each recording an event.

Side effects (delivery, live updates) run after commit.
"""

import re
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from analytics.services import record_event
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.realtime import INBOX_GROUP, group_send, ticket_group
from integrations.policy import ensure_channel_can_send
from tickets.models import (
    ChannelKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    reference_for,
)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PLATFORM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


# Identities ------------------------------------------------------------------------------------


def normalize_identity(*, kind: str, value: str) -> str:
    """Canonical form of an identity, so the same person is found whatever the spelling."""
    value = (value or "").strip()
    if kind == IdentityKind.EMAIL:
        value = value.lower()
        if not EMAIL.match(value):
            raise ApplicationError(f"'{value}' is not an email address.", code="invalid_identity")
        return value
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        value = value.removeprefix("whatsapp:")
        value = re.sub(r"[\s().-]", "", value)
        if value.startswith("00"):
            value = "+" + value[2:]
        if not E164.match(value):
            raise ApplicationError(
                f"'{value}' is not a phone number in international (E.164) form.",
                code="invalid_identity",
            )
        return value
    if kind in (IdentityKind.INSTAGRAM, IdentityKind.FACEBOOK):
        if not PLATFORM_ID.match(value):
            raise ApplicationError(f"'{value}' is not a valid {kind} id.", code="invalid_identity")
        return value
    raise ApplicationError(f"Unknown identity kind '{kind}'.", code="invalid_identity")


def identity_kind_for_channel(channel: str) -> str:
    return {
        ChannelKind.EMAIL: IdentityKind.EMAIL,
        ChannelKind.SMS: IdentityKind.PHONE,
        ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
        ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
        ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
    }[channel]


def find_or_create_customer(*, kind: str, value: str, name: str = "") -> Customer:
    """The customer behind an identity, created on first contact.

    Safe under concurrency: two inbound messages from a new number race on the unique
    (kind, value) constraint, and the loser reads the winner's row.
    """
    value = normalize_identity(kind=kind, value=value)
    identity = (
        CustomerIdentity.objects.select_related("customer").filter(kind=kind, value=value).first()
    )
    if identity is not None:
        return _follow_merges(identity.customer)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(name=name[:200])
            CustomerIdentity.objects.create(
                customer=customer, kind=kind, value=value, is_primary=True
            )
            record_event(name="customer.created", subject=customer, properties={"via": kind})
            return customer
    except IntegrityError:
        identity = CustomerIdentity.objects.select_related("customer").get(kind=kind, value=value)
        return _follow_merges(identity.customer)


def _follow_merges(customer: Customer) -> Customer:
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


# Tickets ---------------------------------------------------------------------------------------


def sla_due_at(*, priority: str, start: datetime) -> datetime:
    return start + timedelta(minutes=settings.TICKET_SLA_MINUTES[priority])


@transaction.atomic
def open_ticket(
    *,
    customer: Customer,
    channel: str,
    subject: str,
    opened_by: User | None = None,
    priority: str = TicketPriority.NORMAL,
    follow_up_of: Ticket | None = None,
) -> Ticket:
    """Open a ticket for `customer`. Staff need the create permission; inbound paths pass None."""
    if opened_by is not None:
        require(opened_by, Action.CREATE_TICKET)
    subject = (subject or "").strip() or "(no subject)"
    now = timezone.now()
    ticket = Ticket(
        customer=customer,
        channel=channel,
        subject=subject[:255],
        priority=priority,
        follow_up_of=follow_up_of,
        due_at=sla_due_at(priority=priority, start=now),
        last_message_at=now,
    )
    ticket.full_clean(exclude=["reference"])
    ticket.save()
    ticket.reference = reference_for(ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(reference=ticket.reference)
    record_event(
        name="ticket.created",
        actor=opened_by,
        ticket=ticket,
        properties={"channel": channel, "follow_up_of": getattr(follow_up_of, "reference", None)},
    )
    publish_ticket_updated_on_commit(ticket)
    return ticket


@transaction.atomic
def record_inbound_message(
    *,
    ticket: Ticket,
    channel: str,
    sender: str,
    body: str,
    body_html: str = "",
    original_body: str = "",
    attachments: list[dict] | None = None,
    provider: str = "",
    provider_message_id: str | None = None,
    email_message_id: str = "",
    in_reply_to: str = "",
) -> TicketMessage:
    """Store a customer's message on `ticket`, reopening it or opening a follow-up if closed.

    A provider message id seen before returns the stored message unchanged (provider retries).
    """
    if provider_message_id:
        existing = TicketMessage.objects.filter(
            provider=provider, provider_message_id=provider_message_id
        ).first()
        if existing is not None:
            return existing
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        ticket = open_ticket(
            customer=ticket.customer,
            channel=channel,
            subject=ticket.subject,
            priority=ticket.priority,
            follow_up_of=ticket,
        )
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    message = TicketMessage(
        ticket=ticket,
        direction=MessageDirection.INBOUND,
        channel=channel,
        sender=sender,
        body=body,
        body_html=body_html,
        original_body=original_body,
        attachments=attachments or [],
        provider=provider,
        provider_message_id=provider_message_id or None,
        email_message_id=email_message_id,
        in_reply_to=in_reply_to,
    )
    message.full_clean(exclude=["ticket", "author"])
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # A concurrent delivery of the same provider message won the race.
        return TicketMessage.objects.get(provider=provider, provider_message_id=provider_message_id)
    now = timezone.now()
    previous_status = ticket.status
    if ticket.status in (TicketStatus.SOLVED, TicketStatus.PENDING, TicketStatus.ON_HOLD):
        ticket.status = TicketStatus.OPEN
        ticket.resolved_at = None
    ticket.last_customer_message_at = now
    ticket.last_message_at = now
    ticket.save(
        update_fields=[
            "status",
            "resolved_at",
            "last_customer_message_at",
            "last_message_at",
            "updated_at",
        ]
    )
    record_event(
        name="message.received",
        ticket=ticket,
        subject=message,
        properties={"channel": channel, "reopened": previous_status == TicketStatus.SOLVED},
    )
    if previous_status == TicketStatus.SOLVED:
        record_event(name="ticket.reopened", ticket=ticket, properties={"by": "customer"})
    publish_ticket_updated_on_commit(ticket)
    return message


def default_reply_channel(ticket: Ticket) -> str:
    """The channel the customer last wrote on, else the ticket's own."""
    last_inbound = (
        ticket.messages.filter(direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-pk")
        .values_list("channel", flat=True)
        .first()
    )
    return last_inbound or ticket.channel


@transaction.atomic
def reply_to_ticket(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    channel: str | None = None,
    is_automated: bool = False,
) -> TicketMessage:
    """Queue an outbound reply; delivery runs as a task after commit (integrations router)."""
    require(author, Action.REPLY_TICKET)
    # FOR UPDATE: two agents may reply at once; first_response_at must be set exactly once.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        raise ApplicationError(
            "This ticket is closed; reply on its follow-up instead.",
            code="ticket_closed",
            status=409,
        )
    body = (body or "").strip()
    if not body:
        raise ApplicationError(
            "The reply is empty.", code="empty_reply", fields={"body": ["Write a reply."]}
        )
    channel = channel or default_reply_channel(ticket)
    if channel not in ChannelKind.values:
        raise ApplicationError(
            f"Unknown channel '{channel}'.", code="invalid", fields={"channel": ["Unknown."]}
        )
    ensure_channel_can_send(ticket=ticket, channel=channel)
    message = TicketMessage(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        author=author,
        body=body,
        is_automated=is_automated,
        delivery_status=DeliveryStatus.QUEUED,
    )
    message.full_clean(exclude=["ticket", "author"])
    message.save()
    now = timezone.now()
    update_fields = ["last_message_at", "updated_at"]
    ticket.last_message_at = now
    if ticket.first_response_at is None and not is_automated:
        ticket.first_response_at = now
        update_fields.append("first_response_at")
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN
        update_fields.append("status")
    ticket.save(update_fields=update_fields)
    record_event(
        name="ticket.replied",
        actor=author,
        ticket=ticket,
        subject=message,
        properties={"channel": channel, "automated": is_automated},
    )
    transaction.on_commit(partial(_enqueue_delivery, message.pk))
    publish_ticket_updated_on_commit(ticket)
    return message


@transaction.atomic
def send_automated_message(
    *, ticket: Ticket, body: str, channel: str | None = None
) -> TicketMessage:
    """Queue a system-written message to the customer (CSAT survey, proof link, auto-reply).

    Unlike `reply_to_ticket` it has no author, does not count as a first response and leaves the
    ticket's status alone, so sending a survey does not reopen a solved ticket.
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    channel = channel or default_reply_channel(ticket)
    message = TicketMessage(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        body=body.strip(),
        is_automated=True,
        delivery_status=DeliveryStatus.QUEUED,
    )
    message.full_clean(exclude=["ticket", "author"])
    message.save()
    record_event(
        name="message.automated", ticket=ticket, subject=message, properties={"channel": channel}
    )
    transaction.on_commit(partial(_enqueue_delivery, message.pk))
    publish_ticket_updated_on_commit(ticket)
    return message


def _enqueue_delivery(message_id: int) -> None:
    from integrations.tasks import deliver_ticket_message

    deliver_ticket_message.enqueue(message_id=message_id)


DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


@transaction.atomic
def update_delivery_status(
    *,
    message_id: int | None = None,
    provider: str = "",
    provider_message_id: str | None = None,
    status: str,
    error_code: str = "",
    error_message: str = "",
    is_sandbox: bool | None = None,
    at: datetime | None = None,
) -> TicketMessage:
    """Move an outbound message's delivery status forward, never back.

    Providers deliver callbacks out of order: a late "sent" never overwrites "delivered", and
    "failed" only replaces queued/sent (keeping the provider's error).
    """
    messages = TicketMessage.objects.select_for_update()
    if message_id is not None:
        message = messages.filter(pk=message_id).first()
    else:
        message = messages.filter(
            provider=provider, provider_message_id=provider_message_id
        ).first()
    if message is None or message.direction != MessageDirection.OUTBOUND:
        raise NotFound("No outbound message matches that id.", code="message_not_found")
    at = at or timezone.now()
    current = message.delivery_status
    update_fields = []
    if status == DeliveryStatus.FAILED:
        if DELIVERY_RANK.get(current, 0) <= DELIVERY_RANK[DeliveryStatus.SENT]:
            message.delivery_status = DeliveryStatus.FAILED
            message.error_code = error_code[:64]
            message.error_message = error_message
            update_fields += ["delivery_status", "error_code", "error_message"]
    elif current == DeliveryStatus.FAILED and status == DeliveryStatus.QUEUED:
        message.delivery_status = status
        message.error_code = message.error_message = ""
        update_fields += ["delivery_status", "error_code", "error_message"]
    elif current != DeliveryStatus.FAILED and DELIVERY_RANK[status] > DELIVERY_RANK.get(
        current, -1
    ):
        message.delivery_status = status
        update_fields.append("delivery_status")
    timestamp_field = {
        DeliveryStatus.SENT: "sent_at",
        DeliveryStatus.DELIVERED: "delivered_at",
        DeliveryStatus.READ: "read_at",
    }.get(status)
    if timestamp_field and getattr(message, timestamp_field) is None:
        setattr(message, timestamp_field, at)
        update_fields.append(timestamp_field)
    if provider_message_id and not message.provider_message_id:
        message.provider_message_id = provider_message_id
        message.provider = provider
        update_fields += ["provider_message_id", "provider"]
    if is_sandbox is not None and message.is_sandbox != is_sandbox:
        message.is_sandbox = is_sandbox
        update_fields.append("is_sandbox")
    if update_fields:
        message.save(update_fields=update_fields)
        record_event(
            name="message.delivery_status",
            ticket=message.ticket,
            subject=message,
            properties={"status": message.delivery_status, "reported": status},
        )
        publish_ticket_updated_on_commit(message.ticket)
    return message


# Live updates ----------------------------------------------------------------------------------


def serialize_ticket_event(ticket: Ticket) -> dict:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "is_escalated": ticket.is_escalated,
        "updated_at": timezone.now().isoformat(),
    }


def publish_ticket_updated(ticket: Ticket) -> None:
    """The one publisher of `ticket.updated`: to the ticket's subscribers and the inbox."""
    event = {"type": "ticket.updated", "ticket": serialize_ticket_event(ticket)}
    group_send(ticket_group(ticket.reference), event)
    group_send(INBOX_GROUP, event)


def publish_ticket_updated_on_commit(ticket: Ticket) -> None:
    transaction.on_commit(partial(publish_ticket_updated, ticket), robust=True)
