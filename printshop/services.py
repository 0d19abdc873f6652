"""Print-shop writes: order links, proof drafts and their thumbnails, sending a proof, the
customer's decision (on the public page or in the storefront widget) and its write-back to PERP.

HTTP to PERP happens outside transactions (fetching artwork before the draft is stored, the
write-back in a task); everything a decision changes commits together, and its side effects
(realtime, the PERP task) run on commit.
"""

import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.models import User
from accounts.permissions import Action, require
from accounts.services import get_automation_actor
from analytics.services import record_event
from comms.models import Channel, NotificationKind
from comms.services import notify_user, post_message
from core.errors import ApplicationError, Conflict, NotFound
from core.realtime import group_send, widget_ticket_group
from core.redaction import ERASED
from core.tasks import Backoff
from integrations.perp.client import PerpClient, PerpError, PerpNotFound, PerpUnavailable
from integrations.webchat.selectors import list_visitor_ticket_ids
from integrations.webchat.services import Visitor
from printshop.models import (
    OrderSource,
    PerpWriteBack,
    Proof,
    ProofDecision,
    ProofSource,
    TicketOrder,
)
from printshop.preflight import (
    EXTENSIONS,
    PrintSize,
    check_proof_file,
    check_proof_size,
    run_preflight,
)
from printshop.selectors import proof_card, public_proof_url
from tickets.attachments import get_ticket_attachment, read_attachment
from tickets.models import Ticket, TicketStatus
from tickets.previews import store_preview
from tickets.references import parse_order_references
from tickets.services import (
    add_system_note,
    follow_merges,
    get_fallback_channel,
    lock_ticket,
    publish_ticket_updated_on_commit,
    send_automated_message,
    ticket_url,
)

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 2000
MAX_MESSAGE_LENGTH = 2000
DESIGN_CHANNEL_SLUG = "graphic-design"
# Where the customer decided (the analytics event and the ticket note say it).
DECIDED_ON_PROOF_PAGE = "proof_page"
DECIDED_IN_WEB_CHAT = "web_chat"


# Orders ------------------------------------------------------------------------------------------


@transaction.atomic
def link_order(
    *, ticket: Ticket, number: str, source: str, actor: User | None = None
) -> TicketOrder:
    """Link `number` to `ticket` once; linking it again returns the existing row."""
    link, created = TicketOrder.objects.get_or_create(
        ticket=ticket, number=number, defaults={"source": source, "linked_by": actor}
    )
    if created:
        record_event(
            name="ticket.order_linked",
            actor=actor,
            ticket=ticket,
            subject=link,
            properties={"number": number, "source": source, "automatic": actor is None},
        )
    return link


def link_order_references(*, ticket: Ticket, text: str) -> list[TicketOrder]:
    """Link every order reference found in `text` (an inbound message and its subject)."""
    return [
        link_order(ticket=ticket, number=ref.number, source=ref.source)
        for ref in parse_order_references(text)
    ]


@transaction.atomic
def link_order_by_number(*, ticket: Ticket, actor: User, number: str) -> TicketOrder:
    """A staff member links an order typed by hand (#1001, PD-ORD-10042, job 4411)."""
    require(actor, Action.UPDATE_TICKET)
    refs = parse_order_references(number.strip())
    if len(refs) != 1:
        raise ApplicationError(
            "That is not an order number (#1001, PD-ORD-10042 or job 4411).",
            code="invalid_order_number",
            fields={"number": ["Not an order number."]},
        )
    link = link_order(ticket=ticket, number=refs[0].number, source=refs[0].source, actor=actor)
    publish_ticket_updated_on_commit(ticket)
    return link


# Proof drafts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofTarget:
    """What a proof is for: the order, the line within it and the size it is printed at."""

    order_number: str = ""
    order_line: str = ""
    perp_artwork_id: str = ""
    print_size: PrintSize | None = None


def create_proof_from_upload(
    *, ticket: Ticket, actor: User, upload: File | None, target: ProofTarget
) -> Proof:
    """Store an uploaded file as a draft proof with its preflight report (not sent yet)."""
    require(actor, Action.REPLY_TICKET)
    if upload is None:
        raise ApplicationError(
            "Choose a file.", code="missing_file", fields={"file": ["Required."]}
        )
    check_proof_size(upload.size or 0)  # before reading it into memory
    data = upload.read()
    content_type = check_proof_file(data)
    file_name = upload.name or ""
    return _create_draft(
        ticket=ticket,
        actor=actor,
        data=data,
        content_type=content_type,
        file_name=file_name,
        source=ProofSource.UPLOAD,
        target=target,
    )


def create_proof_from_attachment(
    *, ticket: Ticket, actor: User, attachment_id: int, target: ProofTarget
) -> Proof:
    """A file already on the ticket (the customer's emailed artwork) as a draft proof: the
    same preflight as an upload runs on its bytes."""
    require(actor, Action.REPLY_TICKET)
    attachment = get_ticket_attachment(ticket=ticket, attachment_id=attachment_id)
    check_proof_size(attachment.size or 0)
    data = read_attachment(attachment, max_bytes=settings.PRINTSHOP_PROOF_MAX_BYTES)
    content_type = check_proof_file(data)
    return _create_draft(
        ticket=ticket,
        actor=actor,
        data=data,
        content_type=content_type,
        file_name=attachment.filename,
        source=ProofSource.ATTACHMENT,
        target=target,
    )


def create_proof_from_perp(
    *, ticket: Ticket, actor: User, artwork_id: str, print_size: PrintSize | None
) -> Proof:
    """Fetch an artwork's print file from PERP and store it as a draft proof."""
    require(actor, Action.REPLY_TICKET)
    artwork_id = artwork_id.strip()
    if not artwork_id:
        raise ApplicationError(
            "Choose the artwork.", code="missing_artwork", fields={"artwork_id": ["Required."]}
        )
    try:
        client = PerpClient.from_settings()
        artwork = client.get_artwork(artwork_id)
        order = client.get_order(artwork.order_id)
        file = client.get_artwork_file(artwork_id, max_bytes=settings.PRINTSHOP_PROOF_MAX_BYTES)
    except PerpNotFound as exc:
        raise NotFound(f"PERP has no artwork {artwork_id}.", code="artwork_not_found") from exc
    except PerpError as exc:
        raise ApplicationError(f"PERP: {exc}", code=f"perp_{exc.code}", status=502) from exc
    perp_customer_id = ticket.customer.perp_customer_id
    if perp_customer_id and order.customer_id != perp_customer_id:
        raise ApplicationError(
            "That artwork belongs to another customer's order.", code="artwork_not_customers"
        )
    content_type = check_proof_file(file.content)
    return _create_draft(
        ticket=ticket,
        actor=actor,
        data=file.content,
        content_type=content_type,
        file_name=artwork.file_name,
        source=ProofSource.PERP,
        target=ProofTarget(
            order_number=order.number,
            order_line=artwork.id,
            perp_artwork_id=artwork.id,
            print_size=print_size,
        ),
    )


def _normalized_order_number(value: str) -> str:
    refs = parse_order_references(value)
    return refs[0].number if refs else value.strip().upper()


def line_key_for(*, ticket: Ticket, order_number: str, order_line: str) -> str:
    """Versions count per order line; without an order number, per line of this ticket."""
    line = order_line.strip().lower() or "-"
    if order_number:
        return f"order:{order_number}:{line}"
    return f"ticket:{ticket.pk}:{line}"


@transaction.atomic
def _create_draft(
    *,
    ticket: Ticket,
    actor: User,
    data: bytes,
    content_type: str,
    file_name: str,
    source: str,
    target: ProofTarget,
) -> Proof:
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("The ticket is closed.", code="ticket_closed")
    report = run_preflight(data=data, content_type=content_type, print_size=target.print_size)
    order_number = _normalized_order_number(target.order_number)[:64]
    order_line = (target.order_line or target.perp_artwork_id).strip()[:120]
    extension = EXTENSIONS[content_type]
    # The stored name is random: nothing about it can be guessed from the ticket or file name.
    stored = default_storage.save(
        f"proofs/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.{extension}", ContentFile(data)
    )
    display_name = get_valid_filename(PurePath(file_name or "").name or f"proof.{extension}")
    proof = Proof(
        ticket=ticket,
        order_number=order_number,
        order_line=order_line,
        line_key=line_key_for(ticket=ticket, order_number=order_number, order_line=order_line),
        token=secrets.token_urlsafe(32),
        source=source,
        perp_artwork_id=target.perp_artwork_id.strip()[:64],
        file_name=display_name[:255],
        content_type=content_type,
        file_size=len(data),
        print_width_mm=target.print_size.width_mm if target.print_size else None,
        print_height_mm=target.print_size.height_mm if target.print_size else None,
        preflight=report.as_json(),
        created_by=actor,
    )
    proof.file.name = stored
    proof.full_clean(exclude=["ticket", "created_by", "file"])
    proof.save()
    transaction.on_commit(partial(_enqueue_preview, proof.pk), robust=True)
    record_event(
        name="proof.drafted",
        actor=actor,
        ticket=ticket,
        subject=proof,
        properties={"source": source, "warnings": len(report.warnings)},
    )
    return proof


@transaction.atomic
def discard_proof_draft(*, proof: Proof, actor: User) -> None:
    require(actor, Action.REPLY_TICKET)
    proof = Proof.objects.select_for_update().get(pk=proof.pk)
    if proof.is_sent:
        raise Conflict("A sent proof stays on record.", code="proof_sent")
    names = [proof.file.name, proof.preview_key]
    proof.delete()
    record_event(name="proof.discarded", actor=actor, ticket=proof.ticket)
    for name in filter(None, names):
        transaction.on_commit(partial(default_storage.delete, name), robust=True)


def _enqueue_preview(proof_id: int) -> None:
    from printshop.tasks import generate_proof_preview_task

    generate_proof_preview_task.enqueue(proof_id=proof_id)


def store_proof_preview(*, proof_id: int) -> str:
    """Draw the proof's thumbnail (image, or a PDF's first page) for the widget's card. Drawn
    before any transaction (a PDF takes a while); a sent proof's card is announced again."""
    proof = Proof.objects.filter(pk=proof_id).first()
    if proof is None or proof.preview_key or not proof.file.name:
        return "skipped"
    key = store_preview(storage_key=proof.file.name, content_type=proof.content_type)
    if key is None:
        return "failed"
    with transaction.atomic():
        # Conditional: the file may have been erased or discarded while it was drawn.
        stored = (
            Proof.objects.filter(pk=proof_id, preview_key="")
            .exclude(file="")
            .update(preview_key=key)
        )
        if not stored:
            transaction.on_commit(partial(default_storage.delete, key), robust=True)
            return "skipped"
        announce_proof_cards_on_commit([proof_id])
    return "generated"


# The storefront widget's proof card ------------------------------------------------------------


def announce_proof_cards_on_commit(proof_ids: list[int]) -> None:
    """After commit, the widget sockets on each proof's ticket get its card as it now is."""
    transaction.on_commit(partial(_announce_proof_cards, tuple(proof_ids)), robust=True)


def _announce_proof_cards(proof_ids: tuple[int, ...]) -> None:
    proofs = Proof.objects.filter(pk__in=proof_ids, sent_at__isnull=False).select_related("ticket")
    for proof in proofs:
        # A merged ticket's visitors listen on the ticket it was merged into.
        reference = follow_merges(proof.ticket).reference
        group_send(
            widget_ticket_group(reference), {"type": "widget.proof", "proof": proof_card(proof)}
        )


def decide_proof_in_web_chat(
    *, visitor: Visitor, proof_id: int, decision: str, comment: str = "", ip: str | None = None
) -> Proof:
    """Approve / Request changes in the storefront widget: the public page's decision, for a
    proof of the visitor's own conversation only (another's is as unknown as a missing one)."""
    ticket_ids = list_visitor_ticket_ids(inbox=visitor.inbox, visitor_id=visitor.visitor_id)
    proof = (
        Proof.objects.filter(pk=proof_id, ticket_id__in=ticket_ids, sent_at__isnull=False)
        .only("token")
        .first()
    )
    if proof is None:
        raise NotFound("No such proof in this conversation.", code="proof_not_found")
    return decide_proof(
        token=proof.token, decision=decision, comment=comment, ip=ip, via=DECIDED_IN_WEB_CHAT
    )


# Sending -----------------------------------------------------------------------------------------


def _proof_message(*, proof: Proof, note: str) -> str:
    what = f"for {proof.line_label}" if proof.line_label else "for your order"
    expires = timezone.localtime(proof.expires_at).strftime("%b %-d, %Y")
    link = (
        f"Your proof {what} (version {proof.version}) is ready: {public_proof_url(proof)}\n"
        f"Please approve it or tell us what to change there (link valid until {expires})."
    )
    return f"{note}\n\n{link}" if note else link


@transaction.atomic
def send_proof(*, proof: Proof, actor: User, message: str = "") -> Proof:
    """Give the draft the next version of its line, supersede older ones, send the link."""
    require(actor, Action.REPLY_TICKET)
    ticket = lock_ticket(proof.ticket)
    # FOR UPDATE: two agents sending proofs for one line at once must not share a version.
    proof = Proof.objects.select_for_update().get(pk=proof.pk)
    if proof.is_sent:
        raise Conflict("This proof was already sent.", code="proof_sent")
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("The ticket is closed.", code="ticket_closed")
    note = (message or "").strip()
    if len(note) > MAX_MESSAGE_LENGTH:
        raise ApplicationError(
            f"Keep the message under {MAX_MESSAGE_LENGTH} characters.",
            code="message_too_long",
            fields={"message": ["Too long."]},
        )
    now = timezone.now()
    earlier = Proof.objects.filter(line_key=proof.line_key, sent_at__isnull=False)
    # FOR UPDATE on the line's versions (the same order line may be on another ticket).
    latest = max(earlier.select_for_update().values_list("version", flat=True), default=0)
    superseded = earlier.filter(is_superseded=False)
    superseded_ids = list(superseded.values_list("pk", flat=True))
    superseded.update(is_superseded=True, superseded_at=now)
    proof.version = latest + 1
    proof.sent_at = now
    proof.expires_at = now + timedelta(days=settings.PRINTSHOP_PROOF_EXPIRY_DAYS)
    proof.message = note
    try:
        with transaction.atomic():
            proof.save(update_fields=["version", "sent_at", "expires_at", "message"])
    except IntegrityError as exc:
        # Another ticket sent the first version of this line at the same moment.
        raise Conflict(
            "Another proof for this order line was just sent; try again.", code="proof_race"
        ) from exc
    body = _proof_message(proof=proof, note=note)
    sent = send_automated_message(ticket=ticket, body=body)
    # The channel refused the link (a closed WhatsApp window): it goes by email when it can.
    fallback = get_fallback_channel(ticket=ticket, skipped=sent)
    if fallback is not None:
        sent = send_automated_message(ticket=ticket, body=body, channel=fallback)
    proof.sent_message = sent
    proof.save(update_fields=["sent_message"])
    if proof.order_number:
        refs = parse_order_references(proof.order_number)
        source = refs[0].source if refs else OrderSource.PERP
        link_order(ticket=ticket, number=proof.order_number, source=source, actor=actor)
    record_event(
        name="proof.sent",
        actor=actor,
        ticket=ticket,
        subject=proof,
        properties={"version": proof.version, "line": proof.line_key, "superseded": latest},
    )
    announce_proof_cards_on_commit([proof.pk, *superseded_ids])
    return proof


# The customer's decision -------------------------------------------------------------------------


def _client_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _decision_summary(proof: Proof, *, via: str = DECIDED_ON_PROOF_PAGE) -> str:
    verb = "approved" if proof.decision == ProofDecision.APPROVED else "asked for changes to"
    line = f" ({proof.line_label})" if proof.line_label else ""
    where = " in the web chat" if via == DECIDED_IN_WEB_CHAT else ""
    return f"The customer {verb} proof v{proof.version}{line}{where}"


@transaction.atomic
def decide_proof(
    *,
    token: str,
    decision: str,
    comment: str = "",
    ip: str | None = None,
    via: str = DECIDED_ON_PROOF_PAGE,
) -> Proof:
    """Record the customer's answer (on the public page, or `via` the web chat): final for
    that version."""
    found = Proof.objects.filter(token=token, sent_at__isnull=False).only("ticket_id").first()
    if found is None:
        raise NotFound("This proof does not exist.", code="proof_not_found")
    # Ticket first, then the proof: the same lock order as send_proof.
    ticket = lock_ticket(Ticket(pk=found.ticket_id))
    proof = Proof.objects.select_for_update().get(pk=found.pk)
    if proof.is_decided:
        raise Conflict("This proof already has a decision.", code="proof_decided")
    if proof.is_superseded:
        raise Conflict("A newer version of this proof was sent.", code="proof_superseded")
    if proof.expires_at <= timezone.now():
        raise ApplicationError("This proof link has expired.", code="proof_expired", status=410)
    if decision not in (ProofDecision.APPROVED, ProofDecision.CHANGES_REQUESTED):
        raise ApplicationError(
            "Approve the proof or request changes.",
            code="invalid_decision",
            fields={"decision": ["Approve or request changes."]},
        )
    comment = (comment or "").strip()[:MAX_COMMENT_LENGTH]
    if decision == ProofDecision.CHANGES_REQUESTED and not comment:
        raise ApplicationError(
            "Tell us what to change.", code="comment_required", fields={"comment": ["Required."]}
        )
    proof.decision = decision
    proof.decided_at = timezone.now()
    proof.decided_ip = _client_ip(ip)
    proof.decision_comment = comment
    proof.perp_status = PerpWriteBack.PENDING if proof.perp_artwork_id else PerpWriteBack.NOT_NEEDED
    proof.save(
        update_fields=[
            "decision",
            "decided_at",
            "decided_ip",
            "decision_comment",
            "perp_status",
        ]
    )
    summary = _decision_summary(proof, via=via)
    add_system_note(
        ticket=ticket,
        body=f"{summary}{f': “{comment}”' if comment else '.'}\n"
        f"Recorded {timezone.localtime(proof.decided_at):%Y-%m-%d %H:%M %Z}"
        f" from {proof.decided_ip or 'an unknown address'}.",
    )
    record_event(
        name=f"proof.{decision}",
        ticket=ticket,
        subject=proof,
        properties={
            "version": proof.version,
            "line": proof.line_key,
            "ip": proof.decided_ip,
            "via": via,
        },
    )
    _notify_decision(ticket=ticket, proof=proof, summary=summary)
    publish_ticket_updated_on_commit(ticket)
    announce_proof_cards_on_commit([proof.pk])
    if proof.perp_status == PerpWriteBack.PENDING:
        transaction.on_commit(partial(_enqueue_write_back, proof.pk), robust=True)
    return proof


def _notify_decision(*, ticket: Ticket, proof: Proof, summary: str) -> None:
    """The assignee (else whoever sent the proof) and the Graphic Design channel hear of it."""
    url = ticket_url(ticket)
    notify_user(
        recipient=ticket.assignee or proof.created_by,
        kind=NotificationKind.SYSTEM,
        title=f"{summary} on {ticket.reference}",
        body=proof.decision_comment[:500],
        url=url,
    )
    channel = Channel.objects.filter(slug=DESIGN_CHANNEL_SLUG, is_archived=False).first()
    if channel is None:
        return
    comment = f" “{proof.decision_comment[:300]}”" if proof.decision_comment else ""
    try:
        # Posted as the automation account: the customer, not a staff member, decided.
        post_message(
            channel=channel,
            author=get_automation_actor(),
            body=f"{summary} on {ticket.reference}.{comment} {url}",
        )
    except ApplicationError as exc:
        logger.warning("printshop.design_channel_post_failed ticket=%s %s", ticket.pk, exc)


def _enqueue_write_back(proof_id: int) -> None:
    from printshop.tasks import write_back_proof_decision_task

    write_back_proof_decision_task.enqueue(proof_id=proof_id)


# PERP write-back ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteBackResult:
    status: str
    retry_in: timedelta | None = None


def write_back_backoff() -> Backoff:
    """30 s, 1 min, 2 min, ... after attempt 1, 2, 3; PRINTSHOP_PERP_WRITEBACK_ATTEMPTS in all."""
    return Backoff(
        attempts=settings.PRINTSHOP_PERP_WRITEBACK_ATTEMPTS, first_delay=timedelta(seconds=30)
    )


def write_back_proof_decision(*, proof_id: int) -> WriteBackResult:
    """Tell PERP the customer's decision. PERP down → retry later; PERP refusing → failed."""
    proof = Proof.objects.select_related("ticket").filter(pk=proof_id).first()
    if proof is None or proof.perp_status != PerpWriteBack.PENDING:
        return WriteBackResult(status=proof.perp_status if proof else "missing")
    attempt = proof.perp_attempts + 1
    who = f"customer ({proof.ticket.reference})"
    try:
        client = PerpClient.from_settings()
        if proof.decision == ProofDecision.APPROVED:
            comment = f": {proof.decision_comment}" if proof.decision_comment else ""
            note = f"Proof v{proof.version} approved{comment}"
            client.approve_proof(proof.perp_artwork_id, approved_by=who, note=note)
        else:
            client.reject_proof(
                proof.perp_artwork_id, rejected_by=who, reason=proof.decision_comment
            )
    except PerpUnavailable as exc:
        retry_in = write_back_backoff().retry_in(attempt)
        status = PerpWriteBack.FAILED if retry_in is None else PerpWriteBack.PENDING
        _record_write_back(proof=proof, attempt=attempt, status=status, error=str(exc))
        return WriteBackResult(status=status, retry_in=retry_in)
    except PerpError as exc:
        _record_write_back(
            proof=proof, attempt=attempt, status=PerpWriteBack.FAILED, error=f"{exc.code}: {exc}"
        )
        return WriteBackResult(status=PerpWriteBack.FAILED)
    _record_write_back(proof=proof, attempt=attempt, status=PerpWriteBack.DONE, error="")
    return WriteBackResult(status=PerpWriteBack.DONE)


@transaction.atomic
def _record_write_back(*, proof: Proof, attempt: int, status: str, error: str) -> None:
    now = timezone.now()
    # Conditional: a staff retry or a duplicate task run must not be overwritten by a stale one.
    updated = Proof.objects.filter(pk=proof.pk, perp_status=PerpWriteBack.PENDING).update(
        perp_status=status,
        perp_attempts=attempt,
        perp_error=error[:2000],
        perp_synced_at=now if status == PerpWriteBack.DONE else None,
    )
    if not updated or status == PerpWriteBack.PENDING:
        return
    ticket = proof.ticket
    record_event(
        name="proof.perp_written" if status == PerpWriteBack.DONE else "proof.perp_failed",
        ticket=ticket,
        subject=proof,
        properties={"attempts": attempt, "error": error[:200]},
    )
    if status == PerpWriteBack.FAILED:
        logger.warning("printshop.perp_write_back.failed proof=%s error=%s", proof.pk, error)
        add_system_note(
            ticket=ticket,
            body=f"PERP was not told about proof v{proof.version} ({proof.perp_artwork_id}) "
            f"after {attempt} attempt{'s' if attempt != 1 else ''}: {error}",
        )
    # Open ticket pages re-render their proofs panel with the PERP state.
    publish_ticket_updated_on_commit(ticket)


@transaction.atomic
def retry_perp_write_back(*, proof: Proof, actor: User) -> Proof:
    """Staff send a failed write-back again (e.g. after PERP was fixed)."""
    require(actor, Action.REPLY_TICKET)
    proof = Proof.objects.select_for_update().get(pk=proof.pk)
    if proof.perp_status != PerpWriteBack.FAILED:
        raise Conflict("Only a failed PERP write-back can be retried.", code="not_failed")
    proof.perp_status = PerpWriteBack.PENDING
    proof.perp_attempts = 0
    proof.perp_error = ""
    proof.save(update_fields=["perp_status", "perp_attempts", "perp_error"])
    record_event(name="proof.perp_retried", actor=actor, ticket=proof.ticket, subject=proof)
    transaction.on_commit(partial(_enqueue_write_back, proof.pk), robust=True)
    return proof


# Privacy ---------------------------------------------------------------------------------------


@transaction.atomic
def redact_ticket_proofs(*, ticket_ids: list[int]) -> int:
    """Erasure (docs/privacy.md): the customer's artwork files are deleted after commit and what
    they or the agent wrote on the proofs goes; versions, decisions and times stay."""
    proofs = list(Proof.objects.filter(ticket_id__in=ticket_ids).exclude(file_name=ERASED))
    for proof in proofs:
        for name in filter(None, (proof.file.name, proof.preview_key)):
            transaction.on_commit(partial(default_storage.delete, name), robust=True)
    return Proof.objects.filter(pk__in=[p.pk for p in proofs]).update(
        file="",
        preview_key="",
        file_name=ERASED,
        message="",
        decision_comment="",
        decided_ip=None,
        preflight={},
    )


def link_reprint_order(event) -> None:
    """Subscriber (integrations' ShopifyOrderActionCompleted): the reprint's new order is linked
    to the ticket it was made from, next to the original order."""
    if event.kind != "reprint" or not event.new_order_name:
        return
    ticket = Ticket.objects.filter(pk=event.ticket_id).first()
    actor = User.objects.filter(pk=event.actor_id).first()
    if ticket is not None:
        link_order(ticket=ticket, number=event.new_order_name, source="shopify", actor=actor)
