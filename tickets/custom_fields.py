"""Custom fields on tickets and customers: admin-defined, typed (text, number, choice, date), set
by staff on the ticket and customer pages or the API, filterable (`?field=key:value`), readable
by rules (`field.<key>`, `customer_field.<key>`). Values are stored as canonical text so equality
filters match whatever the kind."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from core.events import publish_on_commit
from tickets import events
from tickets.field_types import clean_value, invalid_field
from tickets.history import record_ticket_event
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import Customer, CustomField, CustomFieldTarget, HistoryKind, Ticket
from tickets.services import actor_id_of, lock_ticket


def get_custom_field(key: str, applies_to: str = CustomFieldTarget.TICKET) -> CustomField:
    field = CustomField.objects.filter(key=key, applies_to=applies_to, is_active=True).first()
    if field is None:
        raise invalid_field(key or "field", "No such field.")
    return field


@transaction.atomic
def set_ticket_fields(*, ticket: Ticket, actor: User, values: dict) -> dict:
    """Set (or, with a blank value, clear) custom fields of a ticket; returns all its values."""
    require(actor, Action.UPDATE_TICKET)
    cleaned = {key: clean_value(get_custom_field(key), raw) for key, raw in values.items()}
    ticket = lock_ticket(ticket)
    current = dict(ticket.custom_fields or {})
    changed = {key: value for key, value in cleaned.items() if current.get(key) != value}
    if not changed:
        return current
    for key, value in changed.items():
        previous = current.get(key)
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
        record_ticket_event(
            ticket_id=ticket.pk,
            actor_id=actor_id_of(actor),
            kind=HistoryKind.FIELD,
            name=key,
            before=previous,
            after=value,
        )
        publish_on_commit(
            events.TicketFieldChanged(
                ticket_id=ticket.pk,
                actor_id=actor_id_of(actor),
                key=key,
                previous=previous,
                value=value,
            )
        )
    ticket.custom_fields = current
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["custom_fields", "updated_at"])
    publish_ticket_updated_on_commit(ticket)
    return current


@transaction.atomic
def set_customer_fields(*, customer: Customer, actor: User, values: dict) -> dict:
    """Set (or, with a blank value, clear) custom fields of a customer; returns all its values.

    Customers have no timeline of their own: each change is a `CustomerFieldChanged` event
    (analytics keeps it as the customer's field history)."""
    require(actor, Action.EDIT_CUSTOMERS)
    cleaned = {
        key: clean_value(get_custom_field(key, CustomFieldTarget.CUSTOMER), raw)
        for key, raw in values.items()
    }
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    current = dict(customer.custom_fields or {})
    changed = {key: value for key, value in cleaned.items() if current.get(key) != value}
    if not changed:
        return current
    for key, value in changed.items():
        previous = current.get(key)
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
        publish_on_commit(
            events.CustomerFieldChanged(
                customer_id=customer.pk,
                actor_id=actor_id_of(actor),
                key=key,
                previous=previous,
                value=value,
            )
        )
    customer.custom_fields = current
    customer.save(update_fields=["custom_fields", "updated_at"])
    return current
