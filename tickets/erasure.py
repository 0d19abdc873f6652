"""Erasing a customer's personal data from the tickets app (a privacy request, docs/privacy.md).

The customer row, their tickets and messages stay (counts, channels, statuses and every timing
that reports read are kept) but everything that says who they are or what they wrote goes:
name, notes, identities, linked account ids and snapshots, subjects, message bodies, addresses,
files (deleted after commit; their rows stay, nameless and unavailable), internal notes,
escalation and handoff texts, scheduled replies (those still waiting are cancelled).
Duplicates merged into the customer are the same person and are erased with them.
"""

from dataclasses import dataclass
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.redaction import ERASED, expand_needles, mask_json, mentions_any
from tickets.models import (
    AgentHandoff,
    Attachment,
    AttachmentState,
    Customer,
    CustomerIdentity,
    Escalation,
    InternalNote,
    SavedReply,
    ScheduledReply,
    ScheduledReplyState,
    Ticket,
    TicketMessage,
)


@dataclass(frozen=True)
class TicketsErasure:
    customer_ids: list[int]
    ticket_ids: list[int]
    message_count: int
    attachment_count: int
    needles: list[str]


def customer_family(customer: Customer) -> list[Customer]:
    """The customer and every duplicate merged into them (transitively)."""
    family, frontier = [customer], [customer.pk]
    while frontier:
        merged = list(Customer.objects.filter(merged_into_id__in=frontier))
        family += merged
        frontier = [c.pk for c in merged]
    return family


def personal_values(customers: list[Customer]) -> list[str]:
    """What identifies the person: names (and their parts), identities, linked account ids."""
    values: list[str] = []
    for customer in customers:
        if customer.erased_at is None:
            name = customer.name.strip()
            values += [name, *name.split()]
        values += [customer.shopify_customer_id, customer.perp_customer_id]
    values += CustomerIdentity.objects.filter(customer__in=customers).values_list(
        "value", flat=True
    )
    # Single-letter initials and short words would mask unrelated text; expand_needles drops them.
    return expand_needles(values)


@transaction.atomic
def erase_customer_records(*, customer: Customer, extra_needles: list[str] = ()) -> TicketsErasure:
    """Anonymise the customer (and merged duplicates) in place; running it again changes
    nothing more. Returns the values removed so other apps can mask their copies."""
    family = list(
        Customer.objects.select_for_update().filter(
            pk__in=[c.pk for c in customer_family(customer)]
        )
    )
    needles = sorted(
        set(personal_values(family)) | set(expand_needles(extra_needles)), key=len, reverse=True
    )
    tickets = Ticket.objects.filter(customer__in=family)
    ticket_ids = list(tickets.values_list("pk", flat=True))
    messages = TicketMessage.objects.filter(ticket_id__in=ticket_ids)
    attachments = Attachment.objects.filter(ticket_id__in=ticket_ids).exclude(filename=ERASED)
    files = [
        key for pair in attachments.values_list("storage_key", "preview_key") for key in pair if key
    ]
    attachment_count = attachments.update(
        filename=ERASED,
        declared_type="",
        sha256="",
        storage_key="",
        preview_key="",
        content_id="",
        source_url="",
        error="",
        state=AttachmentState.FAILED,
    )
    message_count = messages.exclude(body=ERASED).update(
        body=ERASED,
        body_html="",
        original_body="",
        sender="",
        recipient="",
        error_message="",
        email_message_id="",
        in_reply_to="",
    )
    tickets.update(subject=ERASED)
    # A reply still waiting would go to nobody (the identities go): cancelled, and its text erased.
    ScheduledReply.objects.filter(
        ticket_id__in=ticket_ids, state=ScheduledReplyState.SCHEDULED
    ).update(state=ScheduledReplyState.CANCELLED, done_at=timezone.now())
    ScheduledReply.objects.filter(ticket_id__in=ticket_ids).update(body=ERASED)
    InternalNote.objects.filter(ticket_id__in=ticket_ids).update(body=ERASED)
    Escalation.objects.filter(ticket_id__in=ticket_ids).update(reason=ERASED)
    AgentHandoff.objects.filter(ticket_id__in=ticket_ids).update(
        reason=ERASED, context_summary="", response_note=""
    )
    _mask_other_tickets(needles=needles, ticket_ids=ticket_ids)
    CustomerIdentity.objects.filter(customer__in=family).delete()
    now = timezone.now()
    for member in family:
        member.name = f"Erased customer {member.pk}"
        member.notes = ""
        member.custom_fields = {}  # a text field may hold anything staff typed about them
        member.external_data = {}
        member.external_synced_at = None
        member.shopify_customer_id = member.perp_customer_id = ""
        member.erased_at = member.erased_at or now
        member.save()
    for name in files:
        transaction.on_commit(partial(default_storage.delete, name), robust=True)
    return TicketsErasure(
        customer_ids=[c.pk for c in family],
        ticket_ids=ticket_ids,
        message_count=message_count,
        attachment_count=attachment_count,
        needles=needles,
    )


def _mask_other_tickets(*, needles: list[str], ticket_ids: list[int]) -> None:
    """Staff may have quoted the customer elsewhere (another customer's ticket, a saved reply)."""
    if not needles:
        return
    for model, fields in (
        (InternalNote, ["body"]),
        (TicketMessage, ["body", "body_html", "original_body", "recipient", "sender"]),
        (SavedReply, ["body"]),
    ):
        rows = model.objects.filter(mentions_any(fields, needles)).exclude(
            Q(ticket_id__in=ticket_ids) if model is not SavedReply else Q(pk__in=[])
        )
        for row in rows:
            for name in fields:
                setattr(row, name, mask_json(getattr(row, name), needles))
            row.save(update_fields=fields)


@transaction.atomic
def forget_provider_data(*, provider: str) -> int:
    """shop/redact (docs/privacy.md): drop every customer's link to the provider and the snapshot
    fetched from it; tickets and what customers wrote to us stay. Returns customers changed."""
    id_field = {"shopify": "shopify_customer_id", "perp": "perp_customer_id"}[provider]
    changed = 0
    linked = Customer.objects.select_for_update().filter(
        ~Q(**{id_field: ""}) | Q(external_data__has_key=provider)
    )
    for customer in linked:
        data = dict(customer.external_data or {})
        data.pop(provider, None)
        links = {k: v for k, v in (data.get("links") or {}).items() if k != provider}
        data["links"] = links
        if not links:
            data.pop("links")
        setattr(customer, id_field, "")
        customer.external_data = data
        customer.save(update_fields=[id_field, "external_data", "updated_at"])
        changed += 1
    return changed
