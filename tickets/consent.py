"""Consent and the providers' hard limits: rules every send obeys before a provider is called.

Opt-outs live on the identity (`CustomerIdentity.opted_out_at`): an SMS/WhatsApp STOP (Twilio
Advanced Opt-Out's `OptOutType`, or the body keyword) or a SendGrid suppression (unsubscribe,
spam report, bounce, drop). A send to an opted-out address is refused with the reason, at reply
time and again just before the provider call; the providers would refuse or silently drop it
(Twilio 21610, SendGrid's suppression lists). docs/channels.md "Consent" gives the sources.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.permissions import is_admin
from core.errors import ApplicationError, PermissionDenied
from core.events import publish_on_commit
from tickets import events
from tickets.identities import normalize_identity
from tickets.models import ChannelKind, CustomerIdentity, IdentityKind, OptOutReason, Ticket
from tickets.selectors import get_reply_addresses

# Twilio's default keywords (help.twilio.com/articles/223134027; the Advanced Opt-Out tutorial):
# a message is a keyword only when its whole body is one, in any letter case.
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Twilio refuses a Body over 1,600 characters on every Programmable Messaging channel (21617).
TWILIO_MAX_BODY_CHARS = 1600

# The identity kind whose consent governs a channel; Messenger and Instagram have no opt-out.
CONSENT_KIND = {
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
    ChannelKind.EMAIL: IdentityKind.EMAIL,
}


class SmsKeyword(StrEnum):
    STOP = "STOP"
    START = "START"
    HELP = "HELP"


def sms_keyword(*, body: str, opt_out_type: str = "") -> SmsKeyword | None:
    """What an inbound SMS/WhatsApp says about consent: Twilio's `OptOutType` when it sent one
    (Advanced Opt-Out), else the body when it is exactly one of the default keywords."""
    if opt_out_type.upper() in SmsKeyword.__members__:
        return SmsKeyword(opt_out_type.upper())
    word = body.strip().upper()
    if word in OPT_OUT_KEYWORDS:
        return SmsKeyword.STOP
    if word in OPT_IN_KEYWORDS:
        return SmsKeyword.START
    if word in HELP_KEYWORDS:
        return SmsKeyword.HELP
    return None


@dataclass(frozen=True)
class OptOut:
    channel: str
    address: str
    reason: str
    detail: str
    since: datetime

    @property
    def channel_label(self) -> str:
        return ChannelKind(self.channel).label

    @property
    def reason_label(self) -> str:
        return OptOutReason(self.reason).label if self.reason in OptOutReason.values else ""

    @property
    def message(self) -> str:
        when = timezone.localtime(self.since).strftime("%Y-%m-%d %H:%M")
        return f"{self.address} opted out on {when}: {self.reason_label or self.reason}."


def get_opt_outs(*, addresses: dict[str, str]) -> dict[str, OptOut]:
    """Per channel, the opt-out that forbids sending on it to its address (one query for all)."""
    wanted: dict[str, tuple[str, str]] = {}
    for channel, address in addresses.items():
        kind = CONSENT_KIND.get(channel)
        if kind is None or not address:
            continue
        try:
            wanted[channel] = (kind, normalize_identity(kind=kind, value=address))
        except ApplicationError:
            continue
    if not wanted:
        return {}
    match = Q()
    for kind, value in wanted.values():
        match |= Q(kind=kind, value=value)
    opted_out = {
        (identity.kind, identity.value): identity
        for identity in CustomerIdentity.objects.filter(match, opted_out_at__isnull=False).only(
            "kind", "value", "opted_out_at", "opt_out_reason", "opt_out_detail"
        )
    }
    return {
        channel: OptOut(
            channel=channel,
            address=identity.value,
            reason=identity.opt_out_reason,
            detail=identity.opt_out_detail,
            since=identity.opted_out_at,
        )
        for channel, key in wanted.items()
        if (identity := opted_out.get(key)) is not None
    }


def get_opt_out(*, channel: str, address: str) -> OptOut | None:
    """The opt-out that forbids sending on `channel` to `address`, if any."""
    return get_opt_outs(addresses={channel: address}).get(channel)


def list_channel_opt_outs(*, ticket: Ticket) -> dict[str, OptOut]:
    """Per channel, the opt-out that refuses a reply on this ticket (for the composer and API)."""
    return get_opt_outs(addresses=get_reply_addresses(ticket=ticket))


def opt_out_refusal(opt_out: OptOut) -> ApplicationError:
    """The 409 `recipient_opted_out` for a send that `opt_out` forbids."""
    how = (
        "They can text START to opt back in."
        if opt_out.channel in (ChannelKind.SMS, ChannelKind.WHATSAPP)
        else "An admin can clear the suppression if they ask to hear from us again."
    )
    return ApplicationError(
        f"Not sent: {opt_out.message} {how} Reply on another channel.",
        code="recipient_opted_out",
        status=409,
        fields={"channel": [f"The customer opted out of {opt_out.channel_label}."]},
    )


def ensure_recipient_consents(*, channel: str, address: str) -> None:
    """Refuse (409 `recipient_opted_out`) a send to an address that opted out of `channel`."""
    opt_out = get_opt_out(channel=channel, address=address)
    if opt_out is not None:
        raise opt_out_refusal(opt_out)


def check_body_length(*, channel: str, body: str) -> None:
    """Refuse (400 `body_too_long`) a text Twilio would refuse with error 21617."""
    if channel in (ChannelKind.SMS, ChannelKind.WHATSAPP) and len(body) > TWILIO_MAX_BODY_CHARS:
        raise ApplicationError(
            f"{ChannelKind(channel).label} messages are limited to {TWILIO_MAX_BODY_CHARS:,} "
            f"characters; this one has {len(body):,}. Shorten it or send it by email.",
            code="body_too_long",
            fields={"body": [f"At most {TWILIO_MAX_BODY_CHARS:,} characters."]},
        )


@transaction.atomic
def record_opt_out(
    *, kind: str, value: str, reason: str, detail: str = "", at: datetime | None = None
) -> CustomerIdentity | None:
    """The customer refused messages at this identity; None when we do not know the address."""
    identity = _lock_identity(kind=kind, value=value)
    if identity is None:
        return None
    if identity.opted_out_at is None or identity.opt_out_reason != reason:
        identity.opted_out_at = identity.opted_out_at or at or timezone.now()
        identity.opt_out_reason = reason
        identity.opt_out_detail = detail[:255]
        identity.save(update_fields=["opted_out_at", "opt_out_reason", "opt_out_detail"])
        _publish(identity, actor_id=None)
    return identity


@transaction.atomic
def record_opt_in(
    *, kind: str, value: str, reasons: tuple[str, ...] = ()
) -> CustomerIdentity | None:
    """The customer opted back in (SMS START, a SendGrid group resubscribe). With `reasons`,
    only an opt-out for one of those reasons is lifted."""
    identity = _lock_identity(kind=kind, value=value)
    if identity is None or identity.opted_out_at is None:
        return identity
    if reasons and identity.opt_out_reason not in reasons:
        return identity
    _clear(identity, actor_id=None)
    return identity


@transaction.atomic
def clear_opt_out(*, identity: CustomerIdentity, actor: User) -> CustomerIdentity:
    """An admin lifts a suppression (the customer asked to hear from us again): consent is a
    legal matter, so only the Admin role may override what the customer or provider said."""
    if not is_admin(actor):
        raise PermissionDenied("Only an admin can clear an opt-out.", code="permission_denied")
    identity = CustomerIdentity.objects.select_for_update().get(pk=identity.pk)
    if identity.opted_out_at is not None:
        _clear(identity, actor_id=actor.pk)
    return identity


def _lock_identity(*, kind: str, value: str) -> CustomerIdentity | None:
    try:
        value = normalize_identity(kind=kind, value=value)
    except ApplicationError:
        return None
    return CustomerIdentity.objects.select_for_update().filter(kind=kind, value=value).first()


def _clear(identity: CustomerIdentity, *, actor_id: int | None) -> None:
    reason = identity.opt_out_reason
    identity.opted_out_at = None
    identity.opt_out_reason = identity.opt_out_detail = ""
    identity.save(update_fields=["opted_out_at", "opt_out_reason", "opt_out_detail"])
    _publish(identity, actor_id=actor_id, reason=reason)


def _publish(identity: CustomerIdentity, *, actor_id: int | None, reason: str = "") -> None:
    publish_on_commit(
        events.ConsentChanged(
            customer_id=identity.customer_id,
            identity_id=identity.pk,
            kind=identity.kind,
            is_opted_out=identity.opted_out_at is not None,
            reason=reason or identity.opt_out_reason,
            actor_id=actor_id,
        )
    )
