"""Tags on tickets: staff set them (ticket page, API `PATCH` with `"tags": [...]`), rules add
them (`add_tags`); every change is on the ticket's history."""

import re

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError
from core.events import publish_on_commit
from tickets import events
from tickets.history import record_ticket_event
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import HistoryKind, Tag, Ticket
from tickets.services import actor_id_of, lock_ticket

TAG_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_TAGS = 20


def normalize_tags(values: list[str]) -> list[str]:
    """Lower-cased, de-duplicated and sorted; a bad name is a 400 naming it."""
    names = sorted({value.strip().lower().lstrip("#") for value in values if value.strip()})
    bad = [name for name in names if not TAG_NAME.match(name)]
    if bad:
        raise ApplicationError(
            f"Not a tag: {', '.join(bad)}.",
            code="invalid",
            fields={"tags": ["Use up to 40 lower-case letters, digits, - or _ per tag."]},
        )
    if len(names) > MAX_TAGS:
        raise ApplicationError(
            "Too many tags.", code="invalid", fields={"tags": [f"At most {MAX_TAGS} tags."]}
        )
    return names


def parse_tag_text(text: str) -> list[str]:
    """Tags typed in one box: separated by commas or spaces."""
    return [part for part in re.split(r"[,\s]+", text) if part]


@transaction.atomic
def set_ticket_tags(*, ticket: Ticket, actor: User, tags: list[str]) -> list[str]:
    """Replace the ticket's tags; returns them (sorted)."""
    require(actor, Action.UPDATE_TICKET)
    names = normalize_tags(tags)
    ticket = lock_ticket(ticket)
    previous = sorted(ticket.tags.values_list("name", flat=True))
    if names == previous:
        return names
    # ignore_conflicts: two tickets may get the same new tag at once.
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    ticket.tags.set(Tag.objects.filter(name__in=names))
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    record_ticket_event(
        ticket_id=ticket.pk,
        actor_id=actor_id_of(actor),
        kind=HistoryKind.TAGS,
        before=previous,
        after=names,
    )
    publish_on_commit(
        events.TicketTagsChanged(
            ticket_id=ticket.pk,
            actor_id=actor_id_of(actor),
            previous=tuple(previous),
            tags=tuple(names),
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return names


@transaction.atomic
def add_ticket_tags(*, ticket: Ticket, actor: User, tags: list[str]) -> list[str]:
    """Add tags, keeping the ones the ticket has (what rules and macros do)."""
    ticket = lock_ticket(ticket)
    current = list(ticket.tags.values_list("name", flat=True))
    return set_ticket_tags(ticket=ticket, actor=actor, tags=[*current, *tags])
