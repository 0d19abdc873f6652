"""Merging duplicate customers and duplicate tickets (writes; see tickets/services.py)."""

from django.db import transaction
from django.db.models import Max, Q

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError, Conflict
from core.events import publish_on_commit
from tickets import events
from tickets.models import (
    Customer,
    CustomerIdentity,
    InternalNote,
    MessageDirection,
    Ticket,
    TicketStatus,
)
from tickets.services import actor_id_of, publish_ticket_updated_on_commit


@transaction.atomic
def merge_customers(*, source: Customer, target: Customer, actor: User) -> Customer:
    """Fold `source` into `target`: identities and tickets move; `source` points at `target`."""
    require(actor, Action.MERGE)
    if source.pk == target.pk:
        raise ApplicationError("A customer cannot be merged into itself.", code="invalid")
    # FOR UPDATE in primary-key order so two opposite merges cannot deadlock.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict("One of these customers was already merged.", code="already_merged")
    moved_identities = CustomerIdentity.objects.filter(customer=source).update(
        customer=target, is_primary=False
    )
    moved_tickets = list(Ticket.objects.filter(customer=source))
    Ticket.objects.filter(customer=source).update(customer=target)
    update_fields = ["updated_at"]
    for field in ("name", "shopify_customer_id", "perp_customer_id"):
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
            update_fields.append(field)
    if source.notes:
        target.notes = f"{target.notes}\n\n{source.notes}".strip()
        update_fields.append("notes")
    # The target's own field values win; the duplicate's fill the fields the target lacks.
    merged_fields = {**(source.custom_fields or {}), **(target.custom_fields or {})}
    if merged_fields != (target.custom_fields or {}):
        target.custom_fields = merged_fields
        update_fields.append("custom_fields")
    target.save(update_fields=update_fields)
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    publish_on_commit(
        events.CustomersMerged(
            source_id=source.pk,
            target_id=target.pk,
            actor_id=actor_id_of(actor),
            identities=moved_identities,
            tickets=len(moved_tickets),
        )
    )
    for ticket in moved_tickets:
        ticket.customer = target
        publish_ticket_updated_on_commit(ticket)
    return target


@transaction.atomic
def merge_tickets(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Move `source`'s conversation into `target` and close `source` as merged."""
    require(actor, Action.MERGE)
    if source.pk == target.pk:
        raise ApplicationError("A ticket cannot be merged into itself.", code="invalid")
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None:
        raise Conflict(f"{source.reference} was already merged.", code="already_merged")
    if target.status == TicketStatus.CLOSED or target.merged_into_id is not None:
        raise Conflict(
            f"{target.reference} is closed; merge into an open ticket.", code="ticket_closed"
        )
    moved_messages = source.messages.update(ticket=target)
    moved_notes = source.notes.update(ticket=target)
    # Replies still waiting go out on the ticket the conversation continues on.
    source.scheduled_replies.update(ticket=target)
    latest = target.messages.aggregate(
        last=Max("created_at"),
        last_customer=Max("created_at", filter=Q(direction=MessageDirection.INBOUND)),
    )
    target.last_message_at = latest["last"] or target.last_message_at
    target.last_customer_message_at = latest["last_customer"] or target.last_customer_message_at
    if source.first_response_at and (
        target.first_response_at is None or source.first_response_at < target.first_response_at
    ):
        target.first_response_at = source.first_response_at
    target.save(
        update_fields=[
            "last_message_at",
            "last_customer_message_at",
            "first_response_at",
            "updated_at",
        ]
    )
    InternalNote.objects.create(
        ticket=target,
        author=actor,
        body=f"Merged {source.reference} ({source.subject}) into this ticket.",
        is_automated=True,
    )
    source.merged_into = target
    source.status = TicketStatus.CLOSED
    source.closed_at = target.updated_at
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    InternalNote.objects.create(
        ticket=source,
        author=actor,
        body=f"Merged into {target.reference}.",
        is_automated=True,
    )
    publish_on_commit(
        events.TicketMerged(
            source_id=source.pk,
            target_id=target.pk,
            actor_id=actor_id_of(actor),
            source_reference=source.reference,
            messages=moved_messages,
            notes=moved_notes,
        )
    )
    publish_ticket_updated_on_commit(source)
    publish_ticket_updated_on_commit(target)
    return target
