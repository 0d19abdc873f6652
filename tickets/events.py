"""What happens to customers and tickets, announced to whoever reacts (analytics, automation,
comms, integrations): the one registry of tickets' domain events.

Services publish them with `core.events.publish_on_commit`; the reacting apps subscribe in their
`AppConfig.ready()` (docs/architecture.md lists who subscribes to what). Events carry ids and
the facts of the change, never model instances, and this module imports nothing above tickets.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class CustomerCreated:
    customer_id: int
    via: str  # the identity kind of the first contact (email, sms, ...)


@dataclass(frozen=True, kw_only=True)
class CustomerLinked:
    """A Shopify/PERP account was linked (or, with an empty `external_id`, unlinked)."""

    customer_id: int
    actor_id: int | None
    provider: str
    external_id: str
    is_manual: bool


@dataclass(frozen=True, kw_only=True)
class CustomersMerged:
    source_id: int
    target_id: int
    actor_id: int | None
    identities: int
    tickets: int


@dataclass(frozen=True, kw_only=True)
class CustomerFieldChanged:
    """A customer's custom field was set (`value`) or cleared (`value` None)."""

    customer_id: int
    actor_id: int | None
    key: str
    previous: str | None
    value: str | None


@dataclass(frozen=True, kw_only=True)
class ConsentChanged:
    """A customer opted out at an identity (SMS STOP, an email suppression) or back in."""

    customer_id: int
    identity_id: int
    kind: str
    is_opted_out: bool
    reason: str  # the opt-out's reason, also when it was lifted
    actor_id: int | None  # staff who cleared it; None when the customer or provider did


@dataclass(frozen=True, kw_only=True)
class TicketCreated:
    ticket_id: int
    actor_id: int | None
    channel: str
    follow_up_of: str | None  # the reference of the closed ticket this one follows up
    by_auto_reply: bool = False  # opened by an auto-reply (out of office): never answered


@dataclass(frozen=True, kw_only=True)
class MessageReceived:
    """A customer's message was stored; `reopened` when it reopened a solved ticket; `subject`
    is the subject line it came with (email), empty on messaging channels; `is_auto_reply` when
    it is an auto-reply (out of office, bulk) that automation must never answer."""

    ticket_id: int
    message_id: int
    channel: str
    reopened: bool
    subject: str = ""
    is_auto_reply: bool = False


@dataclass(frozen=True, kw_only=True)
class MessageQueued:
    """An outbound message waits for delivery: a staff reply (`is_system` False, possibly
    `is_automated` when a rule wrote it) or a system message (survey, proof link)."""

    ticket_id: int
    message_id: int
    channel: str
    author_id: int | None
    is_automated: bool
    is_system: bool


@dataclass(frozen=True, kw_only=True)
class MessageSkipped:
    """An automated message was stored but not sent: the channel's rules refused it (`code`)."""

    ticket_id: int
    message_id: int
    channel: str
    code: str


@dataclass(frozen=True, kw_only=True)
class MessageRequeued:
    """Staff sent a failed outbound message again."""

    ticket_id: int
    message_id: int
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class MessageDeliveryChanged:
    ticket_id: int
    message_id: int
    status: str  # the status the message has now
    reported: str  # the status the provider reported


@dataclass(frozen=True, kw_only=True)
class TicketStatusChanged:
    ticket_id: int
    actor_id: int | None
    previous: str
    status: str


@dataclass(frozen=True, kw_only=True)
class TicketSolved:
    ticket_id: int
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class TicketDueChanged:
    """The SLA deadline kept on the ticket moved (automation's policy engine sets it)."""

    ticket_id: int
    previous_due_at: datetime | None
    due_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class TicketPriorityChanged:
    ticket_id: int
    actor_id: int | None
    previous: str
    priority: str


@dataclass(frozen=True, kw_only=True)
class TicketTagsChanged:
    ticket_id: int
    actor_id: int | None
    previous: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TicketFieldChanged:
    ticket_id: int
    actor_id: int | None
    key: str
    previous: str | None
    value: str | None


@dataclass(frozen=True, kw_only=True)
class NoteAdded:
    ticket_id: int
    note_id: int
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class TicketAssigned:
    ticket_id: int
    assignment_id: int
    actor_id: int | None
    assignee_id: int | None
    team_id: int | None
    reason: str
    previous_assignee_id: int | None = None
    previous_team_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class TicketEscalated:
    ticket_id: int
    escalation_id: int
    actor_id: int | None
    to_user_id: int | None
    to_team_id: int | None
    previous_priority: str
    priority: str


@dataclass(frozen=True, kw_only=True)
class HandoffRequested:
    ticket_id: int
    handoff_id: int
    actor_id: int | None
    to_agent_id: int | None
    to_team_id: int | None


@dataclass(frozen=True, kw_only=True)
class HandoffAnswered:
    """The recipient accepted (the ticket is now theirs) or declined a handoff."""

    ticket_id: int
    handoff_id: int
    actor_id: int | None
    is_accepted: bool


@dataclass(frozen=True, kw_only=True)
class TicketMerged:
    source_id: int
    target_id: int
    actor_id: int | None
    source_reference: str
    messages: int
    notes: int


@dataclass(frozen=True, kw_only=True)
class SavedReplyChanged:
    saved_reply_id: int
    actor_id: int | None
    change: str  # created, updated or deleted


@dataclass(frozen=True, kw_only=True)
class AttachmentFetchRequested:
    """An attachment only has a provider link: someone who holds the credentials must download
    it (integrations), on arrival or when staff press "retry"."""

    attachment_id: int
    provider: str
