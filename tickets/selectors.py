import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone

from accounts.models import Role, Team, User
from accounts.permissions import Action, require
from accounts.selectors import register_staff_column
from core.errors import ApplicationError, NotFound
from tickets.erasure import customer_family
from tickets.field_types import clean_value
from tickets.identities import normalize_identity
from tickets.models import (
    AgentHandoff,
    Attachment,
    AttachmentState,
    ChannelKind,
    Customer,
    CustomerIdentity,
    CustomField,
    CustomFieldTarget,
    DeliveryStatus,
    HandoffState,
    HistoryKind,
    IdentityKind,
    InternalNote,
    MessageDirection,
    SavedReply,
    SavedView,
    Tag,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketView,
)
from tickets.references import find_order_references, normalize_order_number


def count_tickets_for_dashboard(
    *, user: User, views: Mapping[str, Mapping[str, str]], since: datetime
) -> dict[str, int]:
    """How many tickets each named inbox view lists (given as the query parameters of its link,
    so a count is exactly what its link shows), plus `opened` and `solved` since `since`, each
    capped like a saved view's (`count_label` shows "999+"): one query, which reads at most
    `SAVED_VIEW_COUNT_CAP + 1` rows per count, however many tickets the shop has."""
    require(user, Action.VIEW_TICKETS)
    queries = {
        name: Ticket.objects.filter(inbox_filter_q(user=user, filters=parse_inbox_filters(params)))
        for name, params in views.items()
    }
    queries["opened"] = Ticket.objects.filter(created_at__gte=since)
    queries["solved"] = Ticket.objects.filter(
        status__in=TicketStatus.CLOSED_STATES, resolved_at__gte=since
    )
    return count_capped_together(queries)


def list_next_due_tickets(*, user: User, limit: int = 5) -> list[Ticket]:
    """The user's open tickets whose SLA clock runs out first."""
    require(user, Action.VIEW_TICKETS)
    return list(
        Ticket.objects.filter(_view_filter(user=user, view=InboxView.MINE), due_at__isnull=False)
        .select_related("customer")
        .order_by("due_at", "pk")[:limit]
    )


def list_open_load_by_assignee(*, user: User, now: datetime) -> list[dict[str, Any]]:
    """Per agent: open tickets in the working views, and how many are breaching or overdue."""
    require(user, Action.VIEW_TICKETS)
    working = Q(status__in=TicketStatus.OPEN_STATES, is_snoozed=False, assignee__isnull=False)
    return list(
        Ticket.objects.filter(working)
        .values("assignee_id", "assignee__username", "assignee__display_name")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=sla_filter_q(SlaFilter.OVERDUE, now=now)),
            breaching=Count("pk", filter=sla_filter_q(SlaFilter.BREACHING, now=now)),
        )
        .order_by("-overdue", "-breaching", "-open", "assignee__username")
    )


def get_outbound_message(*, message_id: int) -> TicketMessage:
    message = (
        TicketMessage.objects.select_related("ticket", "ticket__customer")
        .filter(pk=message_id, direction=MessageDirection.OUTBOUND)
        .first()
    )
    if message is None:
        raise NotFound("No such outbound message.", code="message_not_found")
    return message


def is_provider_message_known(*, provider: str, provider_message_id: str) -> bool:
    """Whether a provider's message id is already stored on one of our messages."""
    return TicketMessage.objects.filter(
        provider=provider, provider_message_id=provider_message_id
    ).exists()


def get_identity(*, kind: str, value: str) -> CustomerIdentity | None:
    """The identity `value` of `kind` (normalized as stored), if known."""
    return CustomerIdentity.objects.filter(
        kind=kind, value=normalize_identity(kind=kind, value=value)
    ).first()


def get_identity_by_id(*, identity_id: int) -> CustomerIdentity | None:
    return CustomerIdentity.objects.filter(pk=identity_id).first()


# Our send may be out at the provider without its id recorded yet (or, unknown, at all).
IN_FLIGHT = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN)


def has_queued_message_like(*, channel: str, recipient: str, body: str) -> bool:
    """Whether one of our own sends of `body` to `recipient` on `channel` is still in flight:
    its provider echo may arrive before the send call returned its id."""
    return TicketMessage.objects.filter(
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        delivery_status__in=IN_FLIGHT,
        body=body,
        ticket__customer__identities__value=recipient,
    ).exists()


def get_last_inbound_times(*, ticket: Ticket) -> dict[str, datetime]:
    """When the customer last wrote on each channel, across all their tickets (one query)."""
    return dict(
        TicketMessage.objects.filter(
            ticket__customer_id=ticket.customer_id, direction=MessageDirection.INBOUND
        )
        .order_by()
        .values("channel")
        .annotate(last=Max("created_at"))
        .values_list("channel", "last")
    )


# Where a reply on each channel may go: the customer's identities of these kinds, in order.
REPLY_ADDRESS_KINDS = {
    ChannelKind.EMAIL: (IdentityKind.EMAIL,),
    ChannelKind.SMS: (IdentityKind.PHONE, IdentityKind.WHATSAPP),
    ChannelKind.WHATSAPP: (IdentityKind.WHATSAPP, IdentityKind.PHONE),
    ChannelKind.INSTAGRAM: (IdentityKind.INSTAGRAM,),
    ChannelKind.FACEBOOK: (IdentityKind.FACEBOOK,),
}


def get_reply_addresses(*, ticket: Ticket) -> dict[str, str]:
    """Where a reply on each channel goes: where the customer last wrote from on it on this
    ticket, else their identity for it; "" when they have none. Two queries for every channel."""
    last_senders: dict[str, str] = {}
    for channel, sender in (
        ticket.messages.filter(direction=MessageDirection.INBOUND)
        .exclude(sender="")
        .order_by("-created_at", "-pk")
        .values_list("channel", "sender")
    ):
        last_senders.setdefault(channel, sender)
    identities: dict[str, str] = {}
    for kind, value in (
        CustomerIdentity.objects.filter(customer_id=ticket.customer_id)
        .order_by("-is_primary", "pk")
        .values_list("kind", "value")
    ):
        identities.setdefault(kind, value)

    def identity_for(channel: str) -> str:
        kinds = REPLY_ADDRESS_KINDS.get(channel, ())
        return next((identities[kind] for kind in kinds if kind in identities), "")

    return {channel: last_senders.get(channel) or identity_for(channel) for channel in ChannelKind}


def get_reply_address(*, ticket: Ticket, channel: str) -> str:
    return get_reply_addresses(ticket=ticket).get(channel, "")


# Tickets for a person ----------------------------------------------------------------------------


def get_ticket_for_user(*, user: User, reference: str) -> Ticket:
    """The ticket with its customer, assignee and team joined; `NotFound` when it is missing."""
    require(user, Action.VIEW_TICKETS)
    ticket = (
        Ticket.objects.select_related("customer", "assignee", "team", "follow_up_of", "merged_into")
        .prefetch_related("tags")
        .filter(reference=reference)
        .first()
    )
    if ticket is None:
        raise NotFound(f"No ticket {reference}.", code="ticket_not_found")
    return ticket


# Inbox -----------------------------------------------------------------------------------------


class InboxView(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL_OPEN = "open"
    ESCALATED = "escalated"
    HANDOFFS = "handoffs"
    SNOOZED = "snoozed"
    ALL = "all"


INBOX_VIEW_LABELS = {
    InboxView.MINE: "Mine",
    InboxView.UNASSIGNED: "Unassigned",
    InboxView.ALL_OPEN: "All open",
    InboxView.ESCALATED: "Escalated",
    InboxView.HANDOFFS: "Pending handoffs to me",
    InboxView.SNOOZED: "Snoozed",
    InboxView.ALL: "Everything",
}

# Sort key -> (field, descending). Every sort is keyset-paginated on (field, id).
INBOX_SORTS = {
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-created": ("created_at", True),
    "created": ("created_at", False),
}
INBOX_SORT_LABELS = {
    "-updated": "Recently updated",
    "updated": "Least recently updated",
    "-created": "Newest",
    "created": "Oldest",
}


class SlaFilter(StrEnum):
    BREACHING = "breaching"
    OVERDUE = "overdue"
    ON_TIME = "on_time"


SLA_FILTER_LABELS = {
    SlaFilter.BREACHING: "Breaching in < 1 h",
    SlaFilter.OVERDUE: "Past SLA",
    SlaFilter.ON_TIME: "On time",
}
BREACHING_WITHIN = timedelta(hours=1)


def sla_filter_q(sla: str, *, now: datetime) -> Q:
    """Open tickets by their SLA clock (`due_at`, kept by automation's policy engine)."""
    open_q = Q(status__in=TicketStatus.OPEN_STATES)
    if sla == SlaFilter.BREACHING:
        return open_q & Q(due_at__gt=now, due_at__lte=now + BREACHING_WITHIN)
    if sla == SlaFilter.ON_TIME:
        # No deadline running (every one met) counts as on time.
        return open_q & (Q(due_at__gt=now + BREACHING_WITHIN) | Q(due_at__isnull=True))
    return open_q & Q(due_at__lte=now)


@dataclass(frozen=True)
class InboxFilters:
    view: str = InboxView.ALL_OPEN
    status: str = ""
    priority: str = ""
    channel: str = ""
    assignee: int | None = None
    team: int | None = None
    q: str = ""
    sort: str = "-updated"
    order: str = ""  # an order number linked to the ticket (printshop.TicketOrder)
    sla: str = ""  # a SlaFilter
    tag: str = ""
    field: str = ""  # a custom field as key:value


@dataclass(frozen=True)
class InboxPage:
    tickets: list[Ticket]
    next_cursor: str | None
    filters: InboxFilters


def encode_cursor(*, value: datetime, pk: int) -> str:
    raw = f"{value.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, pk = raw.rsplit("|", 1)
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApplicationError(
            "That page link is invalid.", code="invalid_cursor", fields={"cursor": ["Invalid."]}
        ) from exc


def _view_filter(*, user: User, view: str) -> Q:
    # Snoozed tickets leave the working views until they wake (their own view lists them).
    open_q = Q(status__in=TicketStatus.OPEN_STATES, is_snoozed=False)
    if view == InboxView.MINE:
        return open_q & Q(assignee=user)
    if view == InboxView.UNASSIGNED:
        return open_q & Q(assignee__isnull=True)
    if view == InboxView.ESCALATED:
        return open_q & Q(is_escalated=True)
    if view == InboxView.HANDOFFS:
        pending = AgentHandoff.objects.filter(ticket=OuterRef("pk"), state=HandoffState.PENDING)
        return Q(Exists(pending.filter(Q(to_agent=user) | Q(to_team__members=user))))
    if view == InboxView.SNOOZED:
        return Q(is_snoozed=True)
    if view == InboxView.ALL:
        return Q()
    return open_q


TICKET_REFERENCE = re.compile(r"^PD-\d+$", re.IGNORECASE)
EXACT_IDENTITY_KINDS = {
    IdentityKind.EMAIL: (IdentityKind.EMAIL,),
    IdentityKind.PHONE: (IdentityKind.PHONE, IdentityKind.WHATSAPP),
}


def _exact_identity_q(text: str) -> Q | None:
    """A search that is an email address or phone number: the customer's tickets, by index.

    Substring matching over every message body is a full scan (seconds at 1M messages); an exact
    identity is answered from the unique (kind, value) index instead.
    """
    for kind, kinds in EXACT_IDENTITY_KINDS.items():
        try:
            value = normalize_identity(kind=kind, value=text)
        except ApplicationError:
            continue
        customers = CustomerIdentity.objects.filter(kind__in=kinds, value=value).values(
            "customer_id"
        )
        return Q(customer_id__in=Subquery(customers))
    return None


def _linked_to_orders_q(numbers: list[str]) -> Q:
    """Tickets linked to one of these normalized order numbers.

    `orders` are printshop's TicketOrder rows (reverse relation: tickets never imports
    printshop), found by their `number` index; a semi-join so a ticket linked to two matching
    numbers is listed once.
    """
    return Q(pk__in=Ticket.objects.filter(orders__number__in=numbers).values("pk"))


def _order_reference_q(text: str) -> Q | None:
    """A search that is one order reference and nothing else (`#10234`, `PD-ORD-10042`,
    `job 4411`): the tickets linked to that order, by index, as the `order` filter finds them.

    Like an email address, an order number pasted into the search box would otherwise be a
    substring scan of every message body.
    """
    found = find_order_references(text)
    if len(found) != 1 or found[0][:2] != (0, len(text)):
        return None
    return _linked_to_orders_q([found[0][2].number])


def search_tickets_q(text: str) -> Q:
    """Free text over reference, subject, message bodies and the customer's name/identities.

    A ticket reference, an order reference or a customer email/phone is matched exactly through
    indexes.
    """
    text = text.strip()
    if TICKET_REFERENCE.match(text):
        return Q(reference__iexact=text)
    exact = _order_reference_q(text)
    if exact is None:
        exact = _exact_identity_q(text)
    if exact is not None:
        return exact
    messages = TicketMessage.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
    identities = CustomerIdentity.objects.filter(
        customer=OuterRef("customer_id"), value__icontains=text
    )
    return (
        Q(reference__iexact=text)
        | Q(subject__icontains=text)
        | Q(customer__name__icontains=text)
        | Q(Exists(identities))
        | Q(Exists(messages))
    )


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def parse_inbox_filters(params: Mapping[str, Any]) -> InboxFilters:
    """Inbox filters from query parameters or a saved view; unknown values are dropped."""

    def choice(name: str, allowed) -> str:
        value = params.get(name) or ""
        return value if value in allowed else ""

    return InboxFilters(
        view=choice("view", list(INBOX_VIEW_LABELS)) or InboxView.ALL_OPEN,
        status=choice("status", TicketStatus.values),
        priority=choice("priority", TicketPriority.values),
        channel=choice("channel", ChannelKind.values),
        assignee=_int_or_none(params.get("assignee")),
        team=_int_or_none(params.get("team")),
        q=str(params.get("q") or "")[:200],
        order=str(params.get("order") or "")[:64],
        tag=str(params.get("tag") or "")[:40],
        field=str(params.get("field") or "")[:250],
        sla=choice("sla", list(SLA_FILTER_LABELS)),
        sort=choice("sort", list(INBOX_SORTS)) or "-updated",
    )


def inbox_filter_q(
    *, user: User, filters: InboxFilters, custom_fields: dict[str, CustomField] | None = None
) -> Q:
    """The tickets an inbox view with these filters lists (also what a saved view counts).
    `custom_fields` (key -> field), when the caller loaded them, saves a lookup."""
    query = _view_filter(user=user, view=filters.view)
    exact = {
        "status": filters.status,
        "priority": filters.priority,
        "channel": filters.channel,
        "assignee_id": filters.assignee,
        "team_id": filters.team,
    }
    query &= Q(**{name: value for name, value in exact.items() if value not in ("", None)})
    if filters.tag.strip():
        tagged = Ticket.tags.through.objects.filter(tag__name=filters.tag.strip().lower())
        query &= Q(pk__in=tagged.values("ticket_id"))
    if filters.field.strip():
        query &= field_filter_q(filters.field, custom_fields=custom_fields)
    if filters.sla:
        query &= sla_filter_q(filters.sla, now=timezone.now())
    if filters.q.strip():
        query &= search_tickets_q(filters.q)
    if filters.order.strip():
        query &= _linked_to_orders_q(normalize_order_number(filters.order))
    return query


def list_inbox(
    *, user: User, filters: InboxFilters, cursor: str | None = None, limit: int = 50
) -> InboxPage:
    """One page of the inbox in a constant number of queries, keyset-paginated on (sort, id)."""
    require(user, Action.VIEW_TICKETS)
    field, descending = INBOX_SORTS.get(filters.sort, INBOX_SORTS["-updated"])
    query = _inbox_query(user=user, filters=filters)
    if cursor:
        value, pk = decode_cursor(cursor)
        if descending:
            query = query.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk}))
        else:
            query = query.filter(Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk}))
    order = [f"-{field}", "-pk"] if descending else [field, "pk"]
    rows = list(_with_row_data(query, user=user).order_by(*order)[: limit + 1])
    for row in rows:
        row.is_unread = is_unread(row)
        row.is_back_from_snooze = is_back_from_snooze(row)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(value=getattr(last, field), pk=last.pk)
    return InboxPage(tickets=rows, next_cursor=next_cursor, filters=filters)


def is_in_inbox_view(*, user: User, filters: InboxFilters, reference: str) -> bool:
    """Whether a ticket belongs in an inbox view: the live inbox asks it of a changed ticket."""
    require(user, Action.VIEW_TICKETS)
    return _inbox_query(user=user, filters=filters).filter(reference=reference).exists()


def _inbox_query(*, user: User, filters: InboxFilters) -> QuerySet[Ticket]:
    return Ticket.objects.filter(inbox_filter_q(user=user, filters=filters))


def _with_row_data(query: QuerySet[Ticket], *, user: User) -> QuerySet[Ticket]:
    """Join what an inbox row shows; the unread marker and preview are subqueries, not N+1."""
    last_viewed = TicketView.objects.filter(ticket=OuterRef("pk"), user=user).values(
        "last_viewed_at"
    )[:1]
    last_inbound = (
        TicketMessage.objects.filter(ticket=OuterRef("pk"), direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-pk")
        .values("body")[:1]
    )
    return (
        query.select_related("customer", "assignee", "team")
        .prefetch_related("tags")
        .annotate(
            viewer_last_viewed_at=Subquery(last_viewed),
            last_inbound_preview=Substr(Subquery(last_inbound), 1, 160),
        )
    )


def get_inbox_row(*, user: User, reference: str) -> Ticket:
    require(user, Action.VIEW_TICKETS)
    ticket = _with_row_data(Ticket.objects.filter(reference=reference), user=user).first()
    if ticket is None:
        raise NotFound(f"No ticket {reference}.", code="ticket_not_found")
    ticket.is_unread = is_unread(ticket)
    ticket.is_back_from_snooze = is_back_from_snooze(ticket)
    return ticket


def is_back_from_snooze(ticket: Ticket) -> bool:
    """A snooze ended since the viewer last opened the ticket (needs `list_inbox` rows)."""
    if ticket.woke_at is None or ticket.is_snoozed:
        return False
    seen = getattr(ticket, "viewer_last_viewed_at", None)
    return seen is None or ticket.woke_at > seen


def is_unread(ticket: Ticket) -> bool:
    """A customer wrote after the viewer last opened the ticket (needs `list_inbox` rows)."""
    if ticket.last_customer_message_at is None:
        return False
    seen = getattr(ticket, "viewer_last_viewed_at", None)
    return seen is None or ticket.last_customer_message_at > seen


def register_staff_columns() -> None:
    """The staff list (an accounts page) shows each member's open tickets."""
    register_staff_column(
        "open_ticket_count",
        lambda: Count(
            "assigned_tickets", filter=Q(assigned_tickets__status__in=TicketStatus.OPEN_STATES)
        ),
    )


def list_assignable_staff() -> list[User]:
    """Active staff who can work tickets, for assignment pickers."""
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename="reply_ticket")
            | Q(user_permissions__codename="reply_ticket")
        )
        .distinct()
        .order_by("username")
    )


# A rail count stops here ("999+"): counting a view of a huge table reads at most this many rows.
SAVED_VIEW_COUNT_CAP = 999


def count_capped(query: QuerySet) -> int:
    """At most `SAVED_VIEW_COUNT_CAP + 1` rows counted: `SELECT COUNT(*) FROM (... LIMIT n)`,
    never a full COUNT over the table."""
    return query.values("pk")[: SAVED_VIEW_COUNT_CAP + 1].count()


def count_capped_together(queries: Mapping[str, QuerySet]) -> dict[str, int]:
    """`count_capped` of each query, in one statement: `SELECT (SELECT COUNT(*) FROM (... LIMIT
    n)), ...`. A single aggregate with one FILTER per count reads every row of the table."""
    parts, params = [], []
    for query in queries.values():
        sql, query_params = query.values("pk")[: SAVED_VIEW_COUNT_CAP + 1].query.sql_with_params()
        # The SQL is the ORM's, its values are parameters: nothing here comes from a user.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(queries, cursor.fetchone(), strict=True))


def count_label(count: int) -> str:
    return f"{SAVED_VIEW_COUNT_CAP}+" if count > SAVED_VIEW_COUNT_CAP else str(count)


def list_saved_views(*, user: User) -> list[SavedView]:
    """The user's own views and the shared ones, each with its capped `count` and `count_label`:
    one query for the views, one (LIMIT-ed) per view, one for custom fields if a view uses one."""
    require(user, Action.VIEW_TICKETS)
    views = list(
        SavedView.objects.filter(Q(owner=user) | Q(is_shared=True)).select_related("owner")
    )
    fields = (
        {
            field.key: field
            for field in CustomField.objects.filter(applies_to=CustomFieldTarget.TICKET)
        }
        if any(view.filters.get("field") for view in views)
        else {}
    )
    for view in views:
        view.inbox_filters = parse_inbox_filters(view.filters)
        query = Ticket.objects.filter(
            inbox_filter_q(user=user, filters=view.inbox_filters, custom_fields=fields)
        )
        view.count = count_capped(query)
        view.count_label = count_label(view.count)
        view.query = saved_view_query(view)
    return views


def saved_view_query(view: SavedView) -> str:
    """The inbox query string that shows a saved view."""
    filters = parse_inbox_filters(view.filters)
    params = {
        name: value
        for name, value in vars(filters).items()
        if value not in ("", None) and not (name == "sort" and value == "-updated")
    }
    return urlencode({**params, "saved": view.pk})


def get_saved_view(*, user: User, saved_view_id: int) -> SavedView:
    view = (
        SavedView.objects.filter(pk=saved_view_id).filter(Q(owner=user) | Q(is_shared=True)).first()
    )
    if view is None:
        raise NotFound("No such saved view.", code="saved_view_not_found")
    return view


def list_custom_fields(applies_to: str = CustomFieldTarget.TICKET) -> list[CustomField]:
    return list(CustomField.objects.filter(applies_to=applies_to, is_active=True))


def field_values(fields: list[CustomField], values: dict | None) -> list[tuple[CustomField, str]]:
    """Each field with its value on one ticket or customer ("" when unset), for a page."""
    return [(field, (values or {}).get(field.key, "")) for field in fields]


def field_filter_q(
    spec: str,
    *,
    custom_fields: dict[str, CustomField] | None = None,
    applies_to: str = CustomFieldTarget.TICKET,
) -> Q:
    """`key:value`: tickets (or customers) whose custom field `key` is `value`; an unknown key,
    a field of the other target or a value the field cannot hold matches nothing."""
    key, _, raw = spec.partition(":")
    if custom_fields is not None:
        field = custom_fields.get(key.strip())
    else:
        field = CustomField.objects.filter(key=key.strip(), applies_to=applies_to).first()
    if field is None:
        return Q(pk__in=[])
    try:
        value = clean_value(field, raw)
    except ApplicationError:
        return Q(pk__in=[])
    # The stored slug, never the raw parameter, goes into the JSON lookup.
    return Q(**{f"custom_fields__{field.key}": value}) if value else Q()


def list_tags() -> list[Tag]:
    """Tags in use, for the inbox filter and the tag picker.

    On every inbox page, so its cost must not grow with the tickets: a semi-join stops at a
    tag's first ticket (one probe of the tag index), where a join + DISTINCT read every
    tagging of every ticket.
    """
    in_use = Ticket.tags.through.objects.filter(tag_id=OuterRef("pk"))
    return list(Tag.objects.filter(Exists(in_use)).order_by("name"))


def list_managers() -> list[User]:
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[Role.MANAGER, Role.ADMIN]))
        .distinct()
        .order_by("username")
    )


def list_teams() -> list[Team]:
    return list(Team.objects.order_by("name"))


# One ticket ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # message | note | assignment | escalation | handoff | rule | event
    at: datetime
    item: object


# Changes the timeline already shows from their own, richer rows (assignment, escalation, rule run).
TIMELINE_OWN_ROWS = (
    HistoryKind.ASSIGNEE,
    HistoryKind.TEAM,
    HistoryKind.ESCALATED,
    HistoryKind.RULE,
)


def list_ticket_events(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's history, oldest first, with who acted."""
    return (
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def get_ticket_timeline(*, ticket: Ticket) -> list[TimelineEntry]:
    """Messages, notes, assignment/escalation/handoff events, automation rules that fired and
    the other recorded changes (status, priority, tags, fields, SLA, merges), in time order
    (9 queries: the files of messages and notes are prefetched)."""
    entries = [
        TimelineEntry("message", m.created_at, m)
        for m in ticket.messages.select_related("author").prefetch_related("attachments")
    ]
    entries += [
        TimelineEntry("note", n.created_at, n)
        for n in ticket.notes.select_related("author").prefetch_related("attachments")
    ]
    entries += [
        TimelineEntry("assignment", a.created_at, a)
        for a in ticket.assignments.select_related("assigned_by", "to_agent", "to_team")
    ]
    entries += [
        TimelineEntry("escalation", e.created_at, e)
        for e in ticket.escalations.select_related("escalated_by", "to_user", "to_team")
    ]
    entries += [
        TimelineEntry("handoff", h.created_at, h)
        for h in ticket.handoffs.select_related("from_agent", "to_agent", "to_team", "responded_by")
    ]
    entries += [TimelineEntry("rule", r.created_at, r) for r in ticket.rule_runs.all()]
    entries += [
        TimelineEntry("event", e.created_at, e)
        for e in list_ticket_events(ticket=ticket).exclude(kind__in=TIMELINE_OWN_ROWS)
    ]
    entries.sort(key=lambda e: (e.at, e.item.pk))
    return entries


def get_internal_note(*, note_id: int) -> InternalNote:
    """A note with its ticket and author (for whoever reacts to `NoteAdded`)."""
    note = InternalNote.objects.select_related("ticket", "author").filter(pk=note_id).first()
    if note is None:
        raise NotFound("No such note.", code="note_not_found")
    return note


def list_pending_handoffs(*, ticket: Ticket) -> list[AgentHandoff]:
    return list(
        ticket.handoffs.filter(state=HandoffState.PENDING).select_related(
            "from_agent", "to_agent", "to_team"
        )
    )


def can_answer_handoff(*, handoff: AgentHandoff, user: User) -> bool:
    if handoff.state != HandoffState.PENDING:
        return False
    if handoff.is_open:
        # Taken where it is offered (a team channel's "I'll take it"), not from the ticket page.
        return False
    if handoff.to_agent_id == user.pk:
        return True
    return handoff.to_team_id is not None and handoff.to_team.members.filter(pk=user.pk).exists()


def get_handoff(*, ticket: Ticket, handoff_id: int) -> AgentHandoff:
    handoff = ticket.handoffs.select_related("to_team").filter(pk=handoff_id).first()
    if handoff is None:
        raise NotFound("No such handoff on this ticket.", code="handoff_not_found")
    return handoff


def list_saved_replies() -> list[SavedReply]:
    return list(SavedReply.objects.all())


def get_saved_reply(*, saved_reply_id: int) -> SavedReply:
    reply = SavedReply.objects.filter(pk=saved_reply_id).first()
    if reply is None:
        raise NotFound("No such saved reply.", code="saved_reply_not_found")
    return reply


# Customers -------------------------------------------------------------------------------------


def search_customers(
    *, user: User, q: str = "", field: str = "", limit: int = 50
) -> list[Customer]:
    """Customers by name or any identity (email, phone, platform id) and by a customer field
    (`key:value`), merged ones hidden."""
    require(user, Action.VIEW_CUSTOMERS)
    query = Customer.objects.filter(merged_into__isnull=True)
    if field.strip():
        query = query.filter(field_filter_q(field, applies_to=CustomFieldTarget.CUSTOMER))
    q = q.strip()
    if q:
        identity_match = CustomerIdentity.objects.filter(
            customer=OuterRef("pk"), value__icontains=q.lower()
        )
        query = query.filter(Q(name__icontains=q) | Q(Exists(identity_match)))
    return list(
        query.prefetch_related("identities")
        .annotate(ticket_count=Count("tickets"))
        .order_by("-updated_at", "-pk")[:limit]
    )


def get_customer_for_user(*, user: User, customer_id: int) -> Customer:
    require(user, Action.VIEW_CUSTOMERS)
    customer = (
        Customer.objects.select_related("merged_into")
        .prefetch_related("identities")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound("No such customer.", code="customer_not_found")
    return customer


def list_customer_tickets(*, customer: Customer, limit: int = 100) -> list[Ticket]:
    return list(
        customer.tickets.select_related("assignee", "team").order_by("-updated_at", "-pk")[:limit]
    )


def get_staff_by_id(*, user_id: int | str | None, field: str) -> User | None:
    """The active staff member behind a form/API id (blank = nobody); field-level 400 if bad."""
    if user_id in (None, ""):
        return None
    try:
        return User.objects.get(pk=int(user_id), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise ApplicationError(
            "Unknown staff member.", code="invalid", fields={field: ["Unknown staff member."]}
        ) from exc


def get_team_by_id(*, team_id: int | str | None, field: str = "team") -> Team | None:
    if team_id in (None, ""):
        return None
    try:
        return Team.objects.get(pk=int(team_id))
    except (Team.DoesNotExist, ValueError, TypeError) as exc:
        raise ApplicationError(
            "Unknown team.", code="invalid", fields={field: ["Unknown team."]}
        ) from exc


def list_tickets_by_reference(*, references: list[str]) -> list[Ticket]:
    return list(Ticket.objects.filter(reference__in=references).order_by("pk"))


# Attachments -----------------------------------------------------------------------------------


def get_attachment_for_user(*, user: User, attachment_id: int) -> Attachment:
    """A file on a ticket the user may see; the same `NotFound` whether missing or not."""
    require(user, Action.VIEW_TICKETS)
    attachment = Attachment.objects.select_related("ticket").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("No such file.", code="attachment_not_found")
    return attachment


def list_ticket_files(*, ticket: Ticket) -> list[Attachment]:
    """The ticket's stored files, oldest first (what a form offers to share or forward)."""
    return list(
        Attachment.objects.filter(ticket=ticket, state=AttachmentState.STORED).order_by(
            "created_at", "pk"
        )
    )


def list_shareable_attachments(
    *, user: User, attachment_ids: list[int], ticket: Ticket | None = None
) -> list[Attachment]:
    """Stored files of tickets the user may see (of `ticket` only, when given), in the order
    given, with their ticket: what team chat may share. An id that is unknown, not stored or of
    another ticket is a 400 naming `forward_attachment_ids`, as forwarding in a reply does."""
    require(user, Action.VIEW_TICKETS)
    if not attachment_ids:
        return []
    rows = Attachment.objects.select_related("ticket").filter(
        pk__in=attachment_ids, state=AttachmentState.STORED
    )
    if ticket is not None:
        rows = rows.filter(ticket=ticket)
    found = {a.pk: a for a in rows}
    missing = [str(pk) for pk in dict.fromkeys(attachment_ids) if pk not in found]
    if missing:
        where = f"on {ticket.reference}" if ticket is not None else "on a ticket"
        raise ApplicationError(
            f"No stored file {', '.join(missing)} {where}.",
            code="unknown_attachment",
            fields={"forward_attachment_ids": [f"Unknown: {', '.join(missing)}."]},
        )
    return [found[pk] for pk in dict.fromkeys(attachment_ids)]


def get_customer_personal_data(*, customer: Customer) -> dict:
    """Everything the tickets app holds about the customer, for a data request (docs/privacy.md):
    profile, identities, tickets with their messages (attachments listed, not embedded)."""
    family = customer_family(customer)
    tickets = (
        Ticket.objects.filter(customer__in=family)
        .prefetch_related("messages__attachments")
        .order_by("created_at", "pk")
    )
    return {
        "profile": {
            "id": customer.pk,
            "name": customer.name,
            "notes": customer.notes,
            "custom_fields": customer.custom_fields,
            "shopify_customer_id": customer.shopify_customer_id,
            "perp_customer_id": customer.perp_customer_id,
            "created_at": customer.created_at.isoformat(),
            "merged_customer_ids": [c.pk for c in family[1:]],
        },
        "identities": [
            {
                "kind": i.kind,
                "value": i.value,
                "is_primary": i.is_primary,
                "display_name": i.display_name,
                "profile_picture_url": i.profile_picture_url,
            }
            for i in CustomerIdentity.objects.filter(customer__in=family).order_by("pk")
        ],
        "tickets": [
            {
                "reference": t.reference,
                "subject": t.subject,
                "channel": t.channel,
                "status": t.status,
                "created_at": t.created_at.isoformat(),
                "messages": [
                    {
                        "direction": m.direction,
                        "channel": m.channel,
                        "from": m.sender,
                        "to": m.recipient,
                        "body": m.body,
                        "created_at": m.created_at.isoformat(),
                        "attachments": [
                            {
                                "filename": a.filename,
                                "content_type": a.content_type,
                                "size": a.size,
                                "sha256": a.sha256,
                            }
                            for a in m.attachments.all()
                        ],
                    }
                    for m in t.messages.all()
                ],
            }
            for t in tickets
        ],
    }


def count_customer_records(*, customer: Customer) -> dict[str, int]:
    """What an erasure would touch, for its confirmation step."""
    family = customer_family(customer)
    tickets = Ticket.objects.filter(customer__in=family)
    return {
        "merged_duplicates": len(family) - 1,
        "identities": CustomerIdentity.objects.filter(customer__in=family).count(),
        "tickets": tickets.count(),
        "messages": TicketMessage.objects.filter(ticket__in=tickets).count(),
    }
