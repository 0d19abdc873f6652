"""Ticket writes: one function per use case, each transactional, each publishing a domain event
(`tickets/events.py`) that the reacting apps subscribe to: analytics records it, automation
runs its rules, comms notifies, integrations delivers outbound messages (docs/architecture.md).

Live updates run after commit.
"""

from datetime import datetime
from typing import TypeVar

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Team, User
from accounts.permissions import Action, can, require
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from core.events import publish_on_commit
from tickets import attachments, events
from tickets.attachments import InboundFile, create_inbound_attachments
from tickets.consent import check_body_length
from tickets.identities import normalize_identity
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import (
    ChannelKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    InternalNote,
    MessageDirection,
    Ticket,
    TicketAssignment,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketView,
    reference_for,
)
from tickets.policy import check_reply_collision, decide_send, ensure_channel_can_send
from tickets.selectors import get_reply_address
from tickets.snooze import wake_ticket


def actor_id_of(user: User | None) -> int | None:
    """The id an event carries for who acted: none for the system or an anonymous user."""
    return user.pk if user is not None and user.is_authenticated else None


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
        return follow_merges(identity.customer)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(name=name[:200])
            CustomerIdentity.objects.create(
                customer=customer, kind=kind, value=value, is_primary=True
            )
            publish_on_commit(events.CustomerCreated(customer_id=customer.pk, via=kind))
            return customer
    except IntegrityError:
        identity = CustomerIdentity.objects.select_related("customer").get(kind=kind, value=value)
        return follow_merges(identity.customer)


Merged = TypeVar("Merged", Customer, Ticket)


def follow_merges(row: Merged) -> Merged:
    """The customer or ticket `row` was merged into, following chains (a cycle stops)."""
    seen = set()
    while row.merged_into_id is not None and row.pk not in seen:
        seen.add(row.pk)
        row = row.merged_into
    return row


EXTERNAL_ID_FIELDS = {"shopify": "shopify_customer_id", "perp": "perp_customer_id"}


@transaction.atomic
def link_customer_account(
    *,
    customer: Customer,
    provider: str,
    external_id: str,
    snapshot: dict | None = None,
    actor: User | None = None,
    is_manual: bool = False,
) -> Customer:
    """Set (or clear, with an empty id) the customer's Shopify/PERP id and cached snapshot.

    Staff links pass `actor` and `is_manual`; a manual unlink is remembered in
    `external_data["links"]` so automatic matching does not link the account again.
    """
    if actor is not None:
        require(actor, Action.EDIT_CUSTOMERS)
    field = EXTERNAL_ID_FIELDS.get(provider)
    if field is None:
        raise ApplicationError(f"Unknown provider '{provider}'.", code="invalid_provider")
    external_id = (external_id or "").strip()[:64]
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    previous = getattr(customer, field)
    data = dict(customer.external_data or {})
    links = dict(data.get("links") or {})
    if is_manual:
        links[provider] = "manual" if external_id else "unlinked"
    elif previous != external_id:
        links[provider] = "auto"
    if previous != external_id:
        data.pop(provider, None)
    if snapshot is not None:
        data[provider] = snapshot
        customer.external_synced_at = timezone.now()
    data["links"] = links
    setattr(customer, field, external_id)
    customer.external_data = data
    customer.save(update_fields=[field, "external_data", "external_synced_at", "updated_at"])
    if previous != external_id:
        publish_on_commit(
            events.CustomerLinked(
                customer_id=customer.pk,
                actor_id=actor_id_of(actor),
                provider=provider,
                external_id=external_id,
                is_manual=is_manual,
            )
        )
    return customer


@transaction.atomic
def store_customer_snapshot(
    *, customer_id: int, provider: str, fetched_for: str, external_id: str, snapshot: dict
) -> Customer | None:
    """Store what a Shopify/PERP refresh found in `external_data[provider]`, linking a newly
    matched account automatically.

    `fetched_for` is the account id the refresh started from ("" when it matched by email or
    phone). When staff linked or unlinked the customer while the refresh was asking the
    provider, the result describes another account, and an erased customer keeps nothing: the
    result is dropped and None is returned.
    """
    field = EXTERNAL_ID_FIELDS.get(provider)
    if field is None:
        raise ApplicationError(f"Unknown provider '{provider}'.", code="invalid_provider")
    # FOR UPDATE: a staff link, a Shopify webhook and a refresh may write this customer at once.
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None or customer.erased_at or getattr(customer, field) != fetched_for:
        return None
    return link_customer_account(
        customer=customer, provider=provider, external_id=external_id, snapshot=snapshot
    )


# Tickets ---------------------------------------------------------------------------------------


@transaction.atomic
def open_ticket(
    *,
    customer: Customer,
    channel: str,
    subject: str,
    opened_by: User | None = None,
    priority: str = TicketPriority.NORMAL,
    follow_up_of: Ticket | None = None,
    is_unverified_sender: bool = False,
    by_auto_reply: bool = False,
) -> Ticket:
    """Open a ticket for `customer`. Staff need the create permission; inbound paths pass None
    (flagging an email whose sender failed authentication, or an auto-reply)."""
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
        is_unverified_sender=is_unverified_sender,
        last_message_at=now,
    )
    ticket.full_clean(exclude=["reference"])
    ticket.save()
    ticket.reference = reference_for(ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(reference=ticket.reference)
    publish_on_commit(
        events.TicketCreated(
            ticket_id=ticket.pk,
            actor_id=actor_id_of(opened_by),
            channel=channel,
            follow_up_of=getattr(follow_up_of, "reference", None),
            by_auto_reply=by_auto_reply,
        )
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
    subject: str = "",
    body_html: str = "",
    original_body: str = "",
    attachments: list[InboundFile] | None = None,
    provider: str = "",
    provider_message_id: str | None = None,
    email_message_id: str = "",
    in_reply_to: str = "",
    is_auto_reply: bool = False,
) -> TicketMessage:
    """Store a customer's message on `ticket`, reopening it or opening a follow-up if closed.

    A provider message id seen before returns the stored message unchanged (provider retries).
    `subject` is the subject line it came with (email), announced for the reactions that read it.
    An auto-reply (out of office) is stored and flagged but reopens nothing: an absence notice
    answering our survey or reply is not the customer asking again.
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
            is_unverified_sender=ticket.is_unverified_sender,
            by_auto_reply=is_auto_reply,
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
        provider=provider,
        provider_message_id=provider_message_id or None,
        email_message_id=email_message_id,
        in_reply_to=in_reply_to,
        is_auto_reply=is_auto_reply,
    )
    message.full_clean(exclude=["ticket", "author"])
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # A concurrent delivery of the same provider message won the race.
        return TicketMessage.objects.get(provider=provider, provider_message_id=provider_message_id)
    create_inbound_attachments(message=message, files=attachments or [], provider=provider)
    now = timezone.now()
    previous_status = ticket.status
    if not is_auto_reply and ticket.status in (
        TicketStatus.SOLVED,
        TicketStatus.PENDING,
        TicketStatus.ON_HOLD,
    ):
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
    wake_ticket(ticket=ticket, reason="customer replied")
    publish_on_commit(
        events.MessageReceived(
            ticket_id=ticket.pk,
            message_id=message.pk,
            channel=channel,
            reopened=ticket.status != previous_status and previous_status == TicketStatus.SOLVED,
            subject=subject,
            is_auto_reply=is_auto_reply,
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return message


@transaction.atomic
def record_external_outbound_message(
    *,
    ticket: Ticket,
    channel: str,
    recipient: str,
    body: str,
    external_author: str,
    provider: str,
    provider_message_id: str,
) -> TicketMessage:
    """Record a reply the business sent outside Printdesk (Meta's own inbox): already sent, so
    nothing is queued; it counts as the first response like a staff reply. A provider message
    id seen before returns the stored message."""
    existing = TicketMessage.objects.filter(
        provider=provider, provider_message_id=provider_message_id
    ).first()
    if existing is not None:
        return existing
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    message = TicketMessage(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        recipient=recipient,
        body=body,
        external_author=external_author,
        provider=provider,
        provider_message_id=provider_message_id,
        delivery_status=DeliveryStatus.SENT,
        sent_at=now,
    )
    message.full_clean(exclude=["ticket", "author"])
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return TicketMessage.objects.get(provider=provider, provider_message_id=provider_message_id)
    ticket.last_message_at = now
    update_fields = ["last_message_at", "updated_at"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        update_fields.append("first_response_at")
    ticket.save(update_fields=update_fields)
    publish_ticket_updated_on_commit(ticket)
    return message


@transaction.atomic
def update_identity_profile(*, identity_id: int, name: str, picture_url: str) -> CustomerIdentity:
    """Store a platform profile (Messenger/Instagram) on the identity, once; the customer takes
    the name when they have none, so tickets show a person instead of a numeric id."""
    identity = (
        CustomerIdentity.objects.select_for_update().select_related("customer").get(pk=identity_id)
    )
    identity.display_name = name[:200]
    identity.profile_picture_url = picture_url
    identity.profile_fetched_at = timezone.now()
    identity.full_clean(exclude=["customer"])
    identity.save(update_fields=["display_name", "profile_picture_url", "profile_fetched_at"])
    customer = identity.customer
    if name and not customer.name:
        customer.name = name[:200]
        customer.save(update_fields=["name", "updated_at"])
    return identity


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
    set_status: str | None = None,
    last_seen_message_id: int | None = None,
    uploads: list[File] | None = None,
    forward_attachment_ids: list[int] | None = None,
    content_sid: str = "",
    content_variables: dict[str, str] | None = None,
) -> TicketMessage:
    """Queue an outbound reply; delivery runs as a task after commit (integrations router).

    `content_sid` and `content_variables` make it a WhatsApp template (integrations checks the
    template is approved); `body` is then its rendered text. A template may go outside the
    24-hour window.

    `set_status` applies a status change in the same transaction ("reply and mark pending").
    `last_seen_message_id` (the newest message the agent's page showed) refuses the reply with
    409 `reply_collision` if someone else replied since; omit it to send anyway.
    Files: new `uploads` and `forward_attachment_ids` (files already on this ticket), checked
    against the channel's provider limits first (400 `files_too_large` naming the limit).
    """
    require(author, Action.REPLY_TICKET)
    # FOR UPDATE: two agents may reply at once; first_response_at must be set exactly once.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        raise ApplicationError(
            "This ticket is closed; reply on its follow-up instead.",
            code="ticket_closed",
            status=409,
        )
    check_reply_collision(ticket=ticket, user=author, last_seen_message_id=last_seen_message_id)
    uploads = list(uploads or [])
    forwarded = attachments.get_forwardable(
        ticket=ticket, attachment_ids=list(forward_attachment_ids or [])
    )
    body = (body or "").strip()
    if not body and not (uploads or forwarded):
        raise ApplicationError(
            "The reply is empty.", code="empty_reply", fields={"body": ["Write a reply."]}
        )
    channel = channel or default_reply_channel(ticket)
    if channel not in ChannelKind.values:
        raise ApplicationError(
            f"Unknown channel '{channel}'.", code="invalid", fields={"channel": ["Unknown."]}
        )
    if content_sid and channel != ChannelKind.WHATSAPP:
        raise ApplicationError(
            "Templates are sent on WhatsApp only.",
            code="invalid",
            fields={"channel": ["Templates are sent on WhatsApp only."]},
        )
    ensure_channel_can_send(
        ticket=ticket, channel=channel, is_human=not is_automated, has_template=bool(content_sid)
    )
    check_body_length(channel=channel, body=body)
    attachments.check_outgoing_files(
        channel=channel,
        files=attachments.describe_uploads(uploads) + attachments.describe_attachments(forwarded),
        sms_to=(
            get_reply_address(ticket=ticket, channel=channel) if channel == ChannelKind.SMS else ""
        ),
    )
    message = TicketMessage(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        author=author,
        body=body,
        content_sid=content_sid,
        content_variables=content_variables or {},
        is_automated=is_automated,
        delivery_status=DeliveryStatus.QUEUED,
    )
    # A message may be only files: then its text is empty.
    message.full_clean(exclude=["ticket", "author", *([] if body else ["body"])])
    message.save()
    attachments.attach_uploads(ticket=ticket, uploads=uploads, uploaded_by=author, message=message)
    attachments.forward_attachments(
        ticket=ticket, attachments=forwarded, uploaded_by=author, message=message
    )
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
    publish_on_commit(
        events.MessageQueued(
            ticket_id=ticket.pk,
            message_id=message.pk,
            channel=channel,
            author_id=author.pk,
            is_automated=is_automated,
            is_system=False,
        )
    )
    publish_ticket_updated_on_commit(ticket)
    if set_status and set_status != ticket.status:
        change_status(ticket=ticket, actor=author, status=set_status)
    return message


@transaction.atomic
def send_automated_message(
    *, ticket: Ticket, body: str, channel: str | None = None
) -> TicketMessage:
    """Queue a system-written message to the customer (CSAT survey, proof link, auto-reply).

    Unlike `reply_to_ticket` it has no author, does not count as a first response and leaves the
    ticket's status alone, so sending a survey does not reopen a solved ticket.
    When the channel's rules refuse it (a closed WhatsApp or Messenger window) it is stored as
    `skipped` with the reason, shown on the timeline and never handed to a provider; the caller
    may fall back to another channel (`get_fallback_channel`).
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    channel = channel or default_reply_channel(ticket)
    decision = decide_send(ticket=ticket, channel=channel, is_human=False)
    message = TicketMessage(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        body=body.strip(),
        is_automated=True,
        delivery_status=DeliveryStatus.QUEUED if decision.is_allowed else DeliveryStatus.SKIPPED,
        error_code=decision.code,
        error_message=decision.reason,
    )
    message.full_clean(exclude=["ticket", "author"])
    message.save()
    if decision.is_allowed:
        publish_on_commit(
            events.MessageQueued(
                ticket_id=ticket.pk,
                message_id=message.pk,
                channel=channel,
                author_id=None,
                is_automated=True,
                is_system=True,
            )
        )
    else:
        publish_on_commit(
            events.MessageSkipped(
                ticket_id=ticket.pk, message_id=message.pk, channel=channel, code=decision.code
            )
        )
    publish_ticket_updated_on_commit(ticket)
    return message


def get_fallback_channel(*, ticket: Ticket, skipped: TicketMessage) -> str | None:
    """Email, when an automated message was skipped on another channel and the customer has an
    email address on file: a survey or a proof link can still reach them."""
    if skipped.delivery_status != DeliveryStatus.SKIPPED or skipped.channel == ChannelKind.EMAIL:
        return None
    has_email = CustomerIdentity.objects.filter(
        customer_id=ticket.customer_id, kind=IdentityKind.EMAIL
    ).exists()
    return ChannelKind.EMAIL if has_email else None


DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.UNKNOWN: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
}


@transaction.atomic
def update_delivery_status(
    *,
    message_id: int | None = None,
    provider: str = "",
    provider_message_id: str | None = None,
    status: str,
    error_code: str = "",
    error_subcode: str = "",
    error_message: str = "",
    is_sandbox: bool | None = None,
    at: datetime | None = None,
) -> TicketMessage:
    """Move an outbound message's delivery status forward, never back.

    Providers deliver callbacks out of order: a late "sent" never overwrites "delivered", and
    "failed" only replaces queued/sending/unknown/sent (keeping the provider's error). Back to
    queued only from failed (staff retry) or unknown (the provider has no record, or staff
    decided to send again); unknown only from sending (no answer after the request left).
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
            message.error_subcode = error_subcode[:64]
            message.error_message = error_message
            update_fields += ["delivery_status", "error_code", "error_subcode", "error_message"]
    elif status == DeliveryStatus.UNKNOWN:
        if current == DeliveryStatus.SENDING:
            message.delivery_status = status
            message.error_code = error_code[:64]
            message.error_message = error_message
            update_fields += ["delivery_status", "error_code", "error_message"]
    elif status == DeliveryStatus.QUEUED and current in (
        DeliveryStatus.FAILED,
        DeliveryStatus.UNKNOWN,
    ):
        message.delivery_status = status
        message.error_code = message.error_subcode = message.error_message = ""
        update_fields += ["delivery_status", "error_code", "error_subcode", "error_message"]
    elif current != DeliveryStatus.FAILED and DELIVERY_RANK[status] > DELIVERY_RANK.get(
        current, -1
    ):
        message.delivery_status = status
        update_fields.append("delivery_status")
        if current == DeliveryStatus.UNKNOWN:  # the provider had it after all
            message.error_code = message.error_message = ""
            update_fields += ["error_code", "error_message"]
    # Unknown keeps the claim's time: when the request may have left, which a reconciliation
    # searches from and the sweep's waits count from.
    if "delivery_status" in update_fields and message.delivery_status != DeliveryStatus.UNKNOWN:
        message.delivery_changed_at = timezone.now()
        update_fields.append("delivery_changed_at")
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
        publish_on_commit(
            events.MessageDeliveryChanged(
                ticket_id=message.ticket_id,
                message_id=message.pk,
                status=message.delivery_status,
                reported=status,
            )
        )
        publish_ticket_updated_on_commit(message.ticket)
    return message


# Status ----------------------------------------------------------------------------------------

# Which status a ticket may move to from each status. Closed is final: a customer writing again
# opens a linked follow-up instead (see `record_inbound_message`).
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD, TicketStatus.SOLVED}
    ),
    TicketStatus.OPEN: frozenset({TicketStatus.PENDING, TicketStatus.ON_HOLD, TicketStatus.SOLVED}),
    TicketStatus.PENDING: frozenset({TicketStatus.OPEN, TicketStatus.ON_HOLD, TicketStatus.SOLVED}),
    TicketStatus.ON_HOLD: frozenset({TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED}),
    TicketStatus.SOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    # Reopening a closed ticket is for staff; a customer writing again opens a follow-up instead.
    TicketStatus.CLOSED: frozenset({TicketStatus.OPEN}),
}


def set_sla_due_at(*, ticket: Ticket, due_at: datetime | None) -> bool:
    """Store the SLA clock's next deadline (automation's policy engine computes it; tickets
    only keep it next to the ticket so the inbox, filters and reports read one value).

    A derived value: `updated_at` stays, so the inbox order does not move.
    """
    rows = Ticket.objects.filter(pk=ticket.pk)
    previous = rows.values_list("due_at", flat=True).first()
    if previous == due_at:
        return False
    rows.update(due_at=due_at)
    ticket.due_at = due_at
    publish_on_commit(
        events.TicketDueChanged(ticket_id=ticket.pk, previous_due_at=previous, due_at=due_at)
    )
    publish_ticket_updated_on_commit(ticket)
    return True


def lock_ticket(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


@transaction.atomic
def change_status(*, ticket: Ticket, actor: User, status: str) -> Ticket:
    """Move a ticket along the lifecycle; an illegal move is a 409 `Conflict`."""
    require(actor, Action.UPDATE_TICKET)
    if status not in TicketStatus.values:
        raise ApplicationError(
            f"Unknown status '{status}'.", code="invalid", fields={"status": ["Unknown status."]}
        )
    ticket = lock_ticket(ticket)
    previous = ticket.status
    if status == previous:
        return ticket
    if status not in STATUS_TRANSITIONS[previous]:
        raise Conflict(
            f"A {TicketStatus(previous).label.lower()} ticket cannot become "
            f"{TicketStatus(status).label.lower()}.",
            code="illegal_transition",
        )
    if ticket.merged_into_id is not None:
        raise Conflict(
            "This ticket was merged into another one; work on that one instead.",
            code="ticket_merged",
        )
    now = timezone.now()
    ticket.status = status
    if status == TicketStatus.SOLVED:
        ticket.resolved_at = now
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
    elif previous == TicketStatus.CLOSED:
        ticket.resolved_at = None
        ticket.closed_at = None
    elif previous == TicketStatus.SOLVED:
        ticket.resolved_at = None
    ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
    publish_on_commit(
        events.TicketStatusChanged(
            ticket_id=ticket.pk, actor_id=actor_id_of(actor), previous=previous, status=status
        )
    )
    if status == TicketStatus.SOLVED:
        publish_on_commit(events.TicketSolved(ticket_id=ticket.pk, actor_id=actor_id_of(actor)))
    publish_ticket_updated_on_commit(ticket)
    return ticket


@transaction.atomic
def change_priority(*, ticket: Ticket, actor: User, priority: str) -> Ticket:
    """Set the priority; automation's SLA clock recomputes the due time on the event."""
    require(actor, Action.UPDATE_TICKET)
    if priority not in TicketPriority.values:
        raise ApplicationError(
            f"Unknown priority '{priority}'.",
            code="invalid",
            fields={"priority": ["Unknown priority."]},
        )
    ticket = lock_ticket(ticket)
    previous = ticket.priority
    if priority == previous:
        return ticket
    ticket.priority = priority
    ticket.save(update_fields=["priority", "updated_at"])
    publish_on_commit(
        events.TicketPriorityChanged(
            ticket_id=ticket.pk, actor_id=actor_id_of(actor), previous=previous, priority=priority
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return ticket


# Notes -----------------------------------------------------------------------------------------


@transaction.atomic
def add_internal_note(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    uploads: list[File] | None = None,
    forward_attachment_ids: list[int] | None = None,
) -> InternalNote:
    """Staff-only commentary, possibly with files (new uploads or files of this ticket); it
    never reaches the customer."""
    require(author, Action.NOTE_TICKET)
    uploads = list(uploads or [])
    body = (body or "").strip()
    ticket = lock_ticket(ticket)
    forwarded = attachments.get_forwardable(
        ticket=ticket, attachment_ids=list(forward_attachment_ids or [])
    )
    if not body and not (uploads or forwarded):
        raise ApplicationError(
            "The note is empty.", code="empty_note", fields={"body": ["Write a note."]}
        )
    attachments.check_outgoing_files(channel="", files=attachments.describe_uploads(uploads))
    note = InternalNote(ticket=ticket, author=author, body=body)
    note.full_clean(exclude=["ticket", "author", *([] if body else ["body"])])
    note.save()
    attachments.attach_uploads(ticket=ticket, uploads=uploads, uploaded_by=author, note=note)
    attachments.forward_attachments(
        ticket=ticket, attachments=forwarded, uploaded_by=author, note=note
    )
    ticket.save(update_fields=["updated_at"])
    publish_on_commit(
        events.NoteAdded(ticket_id=ticket.pk, note_id=note.pk, actor_id=actor_id_of(author))
    )
    publish_ticket_updated_on_commit(ticket)
    return note


def add_system_note(*, ticket: Ticket, body: str) -> InternalNote:
    """A timeline note written by the system (no author), e.g. a customer's proof decision.

    Call it inside the service whose own event announces what happened: it publishes nothing.
    """
    note = InternalNote(ticket=ticket, author=None, body=body, is_automated=True)
    note.full_clean(exclude=["ticket", "author"])
    note.save()
    ticket.save(update_fields=["updated_at"])
    return note


# Assignment ------------------------------------------------------------------------------------


def ticket_url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.reference}/"


def ensure_can_work_tickets(user: User, field: str) -> None:
    if not (user.is_active and can(user, Action.REPLY_TICKET)):
        raise ApplicationError(
            f"{user} cannot work on tickets.",
            code="invalid_assignee",
            fields={field: ["This person cannot work on tickets."]},
        )


def apply_assignment(
    *, ticket: Ticket, actor: User, assignee: User | None, team: Team | None, reason: str
) -> TicketAssignment | None:
    """Point `ticket` (already locked) at `assignee`/`team`, with a history row; no checks."""
    previous_assignee_id, previous_team_id = ticket.assignee_id, ticket.team_id
    assignment = record_assignment(
        ticket=ticket, actor=actor, assignee=assignee, team=team, reason=reason
    )
    if assignment is None:
        return None
    publish_on_commit(
        events.TicketAssigned(
            ticket_id=ticket.pk,
            assignment_id=assignment.pk,
            actor_id=actor_id_of(actor),
            assignee_id=getattr(assignee, "pk", None),
            team_id=getattr(team, "pk", None),
            reason=reason,
            previous_assignee_id=previous_assignee_id,
            previous_team_id=previous_team_id,
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return assignment


def record_assignment(
    *, ticket: Ticket, actor: User, assignee: User | None, team: Team | None, reason: str
) -> TicketAssignment | None:
    """Move `ticket` (already locked) to `assignee`/`team` and write the history row, without
    announcing it: for a use case whose own event says it (an escalation to a team)."""
    if ticket.assignee_id == getattr(assignee, "pk", None) and ticket.team_id == getattr(
        team, "pk", None
    ):
        return None
    assignment = TicketAssignment.objects.create(
        ticket=ticket,
        assigned_by=actor,
        from_agent_id=ticket.assignee_id,
        to_agent=assignee,
        to_team=team,
        reason=reason[:255],
    )
    ticket.assignee = assignee
    ticket.team = team
    update_fields = ["assignee", "team", "updated_at"]
    if ticket.status == TicketStatus.NEW and assignee is not None:
        ticket.status = TicketStatus.OPEN
        update_fields.append("status")
    ticket.save(update_fields=update_fields)
    return assignment


def check_can_assign(*, actor: User, assignee_id: int | None) -> None:
    """Permission before existence: what an entry point checks before it looks the assignee or
    team up, so an id nobody may use answers 403 whether or not it exists. `assign_ticket`
    then applies the full rule (the team, releasing one's own ticket)."""
    if can(actor, Action.ASSIGN_TICKET):
        return
    require(actor, Action.TAKE_TICKET)
    if assignee_id is not None and assignee_id != actor.pk:
        raise PermissionDenied("You may only assign tickets to yourself.", code="permission_denied")


@transaction.atomic
def assign_ticket(
    *,
    ticket: Ticket,
    actor: User,
    assignee: User | None,
    team: Team | None,
    reason: str = "",
) -> Ticket:
    """Set who works on a ticket. Both targets are explicit; pass the current team to keep it.

    Agents hold only `take_ticket`: they may assign a ticket to themselves (or release their
    own) without moving it to another team; everything else needs `assign_ticket`.
    """
    ticket = lock_ticket(ticket)
    is_self_service = ticket.team_id == getattr(team, "pk", None) and (
        (assignee is not None and assignee.pk == actor.pk)
        or (assignee is None and ticket.assignee_id == actor.pk)
    )
    if not can(actor, Action.ASSIGN_TICKET):
        if not is_self_service:
            raise PermissionDenied(
                "You may only assign tickets to yourself.", code="permission_denied"
            )
        require(actor, Action.TAKE_TICKET)
    if assignee is not None:
        ensure_can_work_tickets(assignee, "assignee")
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("A closed ticket cannot be reassigned.", code="ticket_closed")
    apply_assignment(ticket=ticket, actor=actor, assignee=assignee, team=team, reason=reason)
    return ticket


# Read markers ----------------------------------------------------------------------------------


def mark_ticket_viewed(*, ticket: Ticket, user: User) -> TicketView:
    """Remember when `user` last looked at `ticket` (drives the inbox unread marker)."""
    view, _ = TicketView.objects.update_or_create(
        user=user, ticket=ticket, defaults={"last_viewed_at": timezone.now()}
    )
    return view
