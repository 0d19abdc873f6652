"""Rules a message must pass before it is stored and again before it is sent: the channel may
carry it now (the customer did not opt out, `tickets/consent.py`; the providers' messaging
windows) and nobody answered the customer meanwhile (reply collision). They read only tickets'
own data and run synchronously, so a refused reply is never queued. Every outbound message goes
through `decide_send`: staff replies, templates and automated sends (surveys, proof links, rule
replies) alike (docs/channels.md "Messaging windows" cites each provider rule).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from core.errors import ApplicationError, Conflict
from tickets.consent import OptOut, get_opt_outs, opt_out_refusal
from tickets.models import ChannelKind, MessageDirection, Ticket, TicketMessage
from tickets.selectors import get_last_inbound_times, get_reply_addresses

# WhatsApp: free-form business messages only within 24 hours of the customer's last message;
# outside it only an approved template (Twilio error 63016).
WHATSAPP_SESSION_WINDOW = timedelta(hours=24)
# Messenger and Instagram: the standard messaging window is 24 hours; a human agent may answer
# up to 7 days after the person's last message with the HUMAN_AGENT tag.
META_STANDARD_WINDOW = timedelta(hours=24)
META_HUMAN_AGENT_WINDOW = timedelta(days=7)
META_CHANNELS = (ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM)
WINDOWED_CHANNELS = (ChannelKind.WHATSAPP, *META_CHANNELS)


class WindowState:
    UNRESTRICTED = "unrestricted"  # email, SMS: no provider window
    OPEN = "open"
    HUMAN_AGENT = "human_agent"  # Meta: 24 h passed, a human may answer with the tag
    CLOSED = "closed"


class SendAction:
    SEND = "send"
    SEND_WITH_TAG = "send_with_tag"
    NEEDS_TEMPLATE = "needs_template"
    REFUSED = "refused"


@dataclass(frozen=True)
class SendWindow:
    """Where a channel's messaging window stands for one ticket's customer."""

    channel: str
    state: str
    closes_at: datetime | None
    last_inbound_at: datetime | None
    summary: str

    @property
    def channel_label(self) -> str:
        return ChannelKind(self.channel).label


@dataclass(frozen=True)
class SendDecision:
    """What may go out on `window.channel` now, and how (Meta's `messaging_type`/`tag`)."""

    action: str
    window: SendWindow
    code: str = ""
    reason: str = ""
    messaging_type: str = ""
    tag: str = ""
    field_error: str = ""  # what the composer shows under the channel when refused

    @property
    def is_allowed(self) -> bool:
        return self.action in (SendAction.SEND, SendAction.SEND_WITH_TAG)

    @property
    def needs_template(self) -> bool:
        return self.action == SendAction.NEEDS_TEMPLATE


def _in(delta: timedelta) -> str:
    """ "3 h", "40 min": how long until a window closes, rounded down."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    return f"{minutes // 60} h" if minutes >= 60 else f"{minutes} min"


def _window_summary(label: str, state: str, closes_at: datetime | None, now: datetime) -> str:
    if state == WindowState.OPEN:
        return f"{label} window closes in {_in(closes_at - now)}"
    if state == WindowState.HUMAN_AGENT:
        until = date_format(timezone.localtime(closes_at), "D H:i")
        return f"{label}: human-agent tag until {until}"
    if label == ChannelKind.WHATSAPP.label:
        return f"{label} window closed — send a template"
    return f"{label} window closed — wait for the customer to write"


@dataclass(frozen=True)
class CustomerReach:
    """What the policy reads about a ticket's customer, for every channel at once: where a reply
    goes, when they last wrote there, and which of those addresses opted out. Read once per page
    or send (four queries)."""

    addresses: dict[str, str]
    last_inbound: dict[str, datetime]
    opt_outs: dict[str, OptOut]


def get_customer_reach(*, ticket: Ticket) -> CustomerReach:
    addresses = get_reply_addresses(ticket=ticket)
    return CustomerReach(
        addresses=addresses,
        last_inbound=get_last_inbound_times(ticket=ticket),
        opt_outs=get_opt_outs(addresses=addresses),
    )


def get_send_window(
    *,
    ticket: Ticket,
    channel: str,
    now: datetime | None = None,
    reach: CustomerReach | None = None,
) -> SendWindow:
    """The window of `channel` from the customer's last inbound message on it (any ticket)."""
    if channel not in WINDOWED_CHANNELS:
        return SendWindow(channel, WindowState.UNRESTRICTED, None, None, "")
    now = now or timezone.now()
    last = (reach or get_customer_reach(ticket=ticket)).last_inbound.get(channel)
    if channel == ChannelKind.WHATSAPP:
        spans = ((WindowState.OPEN, WHATSAPP_SESSION_WINDOW),)
    else:
        spans = (
            (WindowState.OPEN, META_STANDARD_WINDOW),
            (WindowState.HUMAN_AGENT, META_HUMAN_AGENT_WINDOW),
        )
    state, closes_at = WindowState.CLOSED, None
    for span_state, span in spans:
        if last is not None and now < last + span:
            state, closes_at = span_state, last + span
            break
    summary = _window_summary(ChannelKind(channel).label, state, closes_at, now)
    return SendWindow(channel, state, closes_at, last, summary)


def decide_send(
    *,
    ticket: Ticket,
    channel: str,
    is_human: bool,
    has_template: bool = False,
    now: datetime | None = None,
    reach: CustomerReach | None = None,
) -> SendDecision:
    """Send, send with Meta's HUMAN_AGENT tag, needs a WhatsApp template, or refused (why):
    first the customer's consent (`tickets/consent.py`), then the channel's window."""
    reach = reach or get_customer_reach(ticket=ticket)
    window = get_send_window(ticket=ticket, channel=channel, now=now, reach=reach)
    address = reach.addresses.get(channel, "")
    if window.state != WindowState.UNRESTRICTED and not address:
        # WhatsApp and Meta reach only someone who wrote to us there: no template opens them.
        return SendDecision(
            SendAction.REFUSED,
            window,
            code="no_reply_address",
            reason=f"The customer has no {ChannelKind(channel).label} address to send to.",
            field_error=f"No {ChannelKind(channel).label} address for this customer.",
        )
    opt_out = reach.opt_outs.get(channel)
    if opt_out is not None:
        refusal = opt_out_refusal(opt_out)
        return SendDecision(
            SendAction.REFUSED,
            window,
            code=refusal.code,
            reason=refusal.message,
            field_error=refusal.fields["channel"][0],
        )
    if window.state == WindowState.UNRESTRICTED:
        return SendDecision(SendAction.SEND, window)
    if channel == ChannelKind.WHATSAPP:
        if window.state == WindowState.OPEN or has_template:
            return SendDecision(SendAction.SEND, window)
        return SendDecision(
            SendAction.NEEDS_TEMPLATE,
            window,
            code="whatsapp_window_closed",
            reason="WhatsApp only allows free-form messages within 24 hours of the customer's "
            "last WhatsApp message. Send an approved template, reply on another channel, or wait "
            "for the customer to write again.",
        )
    if window.state == WindowState.OPEN:
        return SendDecision(SendAction.SEND, window, messaging_type="RESPONSE")
    if window.state == WindowState.HUMAN_AGENT:
        if is_human:
            return SendDecision(
                SendAction.SEND_WITH_TAG, window, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"
            )
        return SendDecision(
            SendAction.REFUSED,
            window,
            code="meta_window_closed",
            reason=f"More than 24 hours since the customer's last {ChannelKind(channel).label} "
            "message: only a human agent may answer now (HUMAN_AGENT tag, up to 7 days).",
        )
    return SendDecision(
        SendAction.REFUSED,
        window,
        code="meta_window_closed",
        reason=f"{ChannelKind(channel).label} only allows answers within 7 days of the "
        "customer's last message (24 hours for automated messages). Reply on another channel, "
        "or wait for the customer to write again.",
    )


def list_send_decisions(*, ticket: Ticket, is_human: bool = True) -> list[SendDecision]:
    """What a reply on each channel would get now (the composer and the ticket API)."""
    reach = get_customer_reach(ticket=ticket)
    return [
        decide_send(ticket=ticket, channel=channel, is_human=is_human, reach=reach)
        for channel in ChannelKind.values
    ]


def pick_reply_channel(*, decisions: list[SendDecision], preferred: str) -> str:
    """The composer's default: `preferred` when a reply may go there, else a channel the
    customer wrote on that is still open, else the first channel a reply may go on."""
    allowed = [d for d in decisions if d.is_allowed]
    for decision in allowed:
        if decision.window.channel == preferred:
            return preferred
    used = [d for d in allowed if d.window.last_inbound_at is not None]
    return (used or allowed or decisions)[0].window.channel


def ensure_channel_can_send(
    *, ticket: Ticket, channel: str, is_human: bool = True, has_template: bool = False
) -> SendDecision:
    """The decision for a message about to be stored; 409 with the reason when it may not go."""
    decision = decide_send(
        ticket=ticket, channel=channel, is_human=is_human, has_template=has_template
    )
    if not decision.is_allowed:
        raise ApplicationError(
            decision.reason,
            code=decision.code,
            status=409,
            fields={"channel": [decision.field_error or decision.window.summary + "."]},
        )
    return decision


def check_reply_collision(*, ticket: Ticket, user: User, last_seen_message_id: int | None) -> None:
    """Refuse (409 `reply_collision`) when someone else replied after the message the agent saw.

    The reply form carries the newest message id it rendered; a confirmed resend skips this.
    """
    if last_seen_message_id is None:
        return
    newer = (
        TicketMessage.objects.filter(
            ticket=ticket, direction=MessageDirection.OUTBOUND, pk__gt=last_seen_message_id
        )
        .exclude(author=user)
        .select_related("author")
        .order_by("pk")
        .first()
    )
    if newer is None:
        return
    who = newer.author.short_name if newer.author_id else "An automated message"
    raise Conflict(
        f"{who} replied to this customer while you were writing. Read the new reply, then send "
        "yours anyway if it still fits.",
        code="reply_collision",
    )
