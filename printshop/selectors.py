"""Print-shop reads shared by the ticket panel, the public proof page, the storefront widget's
proof card, the API and threading."""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import NotFound
from integrations.selectors import get_customer_context
from integrations.webchat.selectors import list_visitor_ticket_ids
from integrations.webchat.services import Visitor
from printshop.models import Proof, TicketOrder
from tickets.models import Ticket
from tickets.references import normalize_order_number

# secrets.token_urlsafe: anything else (NUL bytes included, which PostgreSQL refuses) is unknown.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")

# A widget conversation shows at most this many proofs (the newest).
WIDGET_MAX_PROOFS = 100

# Proofs ------------------------------------------------------------------------------------------


def public_proof_url(proof: Proof) -> str:
    return f"{settings.PUBLIC_BASE_URL}/proofs/{proof.token}/"


def is_proof_link_expired(proof: Proof) -> bool:
    """An open proof past its date: the page, file and preview answer 410 (a decided or
    superseded one stays readable)."""
    return not (proof.is_decided or proof.is_superseded) and proof.expires_at <= timezone.now()


def get_proof_by_token(*, token: str) -> Proof | None:
    """A sent proof by its public token (drafts have tokens but are never public)."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return None
    return (
        Proof.objects.select_related("ticket", "ticket__customer")
        .filter(token=token, sent_at__isnull=False)
        .first()
    )


def list_line_versions(*, proof: Proof) -> list[Proof]:
    """Every sent version of the proof's order line, newest first."""
    return list(
        Proof.objects.filter(line_key=proof.line_key, sent_at__isnull=False).order_by("-version")
    )


def list_visitor_proofs(*, visitor: Visitor) -> list[Proof]:
    """The proofs sent on the widget visitor's own conversations, oldest first (never another
    ticket's: a proof of a ticket merged into theirs stays on the ticket it was sent from)."""
    ticket_ids = list_visitor_ticket_ids(inbox=visitor.inbox, visitor_id=visitor.visitor_id)
    newest = Proof.objects.filter(ticket_id__in=ticket_ids, sent_at__isnull=False).order_by(
        "-sent_at", "-pk"
    )[:WIDGET_MAX_PROOFS]
    return list(reversed(newest))


def proof_card(proof: Proof) -> dict:
    """A sent proof as the storefront widget's card shows it: version, a preview from our own
    origin, the decision, and the public proof page as the fallback. Nothing staff-only (no
    preflight, no PERP state, no address)."""
    page = public_proof_url(proof)
    expired = is_proof_link_expired(proof)
    if proof.is_decided:
        state = proof.decision
    elif proof.is_superseded:
        state = "superseded"
    else:
        state = "expired" if expired else "pending"
    has_file = bool(proof.file.name) and not expired
    if not has_file:
        preview = ""
    elif proof.preview_key:
        preview = f"{page}preview/"
    else:
        # Until the thumbnail is drawn an image shows itself; a PDF shows its link only.
        preview = f"{page}file/" if proof.is_image else ""
    return {
        "id": proof.pk,
        "message_id": proof.sent_message_id,
        "version": proof.version,
        "label": proof.line_label,
        "file_name": proof.file_name,
        "is_pdf": not proof.is_image,
        "preview_url": preview,
        "file_url": f"{page}file/" if has_file else "",
        "page_url": page,
        "state": state,
        "decided_at": proof.decided_at.isoformat() if proof.decided_at else None,
        "comment": proof.decision_comment,
        "expires_at": proof.expires_at.isoformat() if proof.expires_at else None,
    }


def get_ticket_proof(*, ticket: Ticket, proof_id: int) -> Proof:
    proof = Proof.objects.filter(ticket=ticket, pk=proof_id).select_related("created_by").first()
    if proof is None:
        raise NotFound("No such proof on this ticket.", code="proof_not_found")
    return proof


@dataclass
class ProofLine:
    """One order line's proofs on a ticket: the versions sent, newest first."""

    label: str
    versions: list[Proof] = field(default_factory=list)


def list_ticket_proofs(*, ticket: Ticket) -> tuple[list[Proof], list[ProofLine]]:
    """(drafts, sent proofs grouped by order line) in one query."""
    proofs = list(
        Proof.objects.filter(ticket=ticket)
        .select_related("created_by")
        .order_by("-sent_at", "-created_at", "-pk")
    )
    drafts = [p for p in proofs if not p.is_sent]
    lines: dict[str, ProofLine] = defaultdict(lambda: ProofLine(label=""))
    for proof in sorted((p for p in proofs if p.is_sent), key=lambda p: -p.version):
        line = lines[proof.line_key]
        line.label = line.label or proof.line_label or "Proof"
        line.versions.append(proof)
    return drafts, list(lines.values())


# Orders ------------------------------------------------------------------------------------------


def list_ticket_orders(*, ticket: Ticket) -> list[TicketOrder]:
    return list(ticket.orders.select_related("linked_by"))


def list_tickets_for_order(*, user: User, number: str) -> QuerySet[Ticket]:
    """Tickets linked to an order number (`#1001`, `1001`, `PD-ORD-10042`, `job 4411`)."""
    require(user, Action.VIEW_TICKETS)
    numbers = normalize_order_number(number)
    return (
        Ticket.objects.filter(orders__number__in=numbers)
        .select_related("customer", "assignee", "team")
        .distinct()
        .order_by("-updated_at", "-pk")
    )


@dataclass(frozen=True)
class OrderStatus:
    number: str
    source: str
    status: str = ""
    detail: str = ""
    error: str = ""


def get_linked_order_statuses(*, ticket: Ticket) -> list[OrderStatus]:
    """Each linked order with its live status from the customer's Shopify/PERP context."""
    links = list_ticket_orders(ticket=ticket)
    if not links:
        return []
    context = get_customer_context(customer=ticket.customer)
    return [_order_status(link, context) for link in links]


def _order_status(link: TicketOrder, context) -> OrderStatus:
    perp_orders = context.perp.orders if context.perp else []
    for detail in perp_orders:
        if link.number in (detail.order.number, detail.order.shopify_order_name):
            production = detail.production
            stage = f"production: {production.status}" if production else ""
            return OrderStatus(
                number=link.number,
                source=link.source,
                status=detail.order.status.replace("_", " "),
                detail=stage,
            )
        if link.number.startswith("JOB-") and detail.production:
            for job in detail.production.jobs:
                # PERP job ids are job_<order>_<line>; customers quote the middle number.
                if job.id.split("_")[1:2] == [link.number.removeprefix("JOB-")]:
                    return OrderStatus(
                        number=link.number,
                        source=link.source,
                        status=f"{job.stage} ({job.status.replace('_', ' ')})",
                        detail=job.name,
                    )
    shopify_orders = context.shopify.orders if context.shopify else []
    for order in shopify_orders:
        if order.name == link.number:
            return OrderStatus(
                number=link.number,
                source=link.source,
                status=(order.fulfillment_status or "unfulfilled").lower().replace("_", " "),
                detail=(order.financial_status or "").lower().replace("_", " "),
            )
    error = context.perp_state.error or context.shopify_state.error
    return OrderStatus(number=link.number, source=link.source, error=error)


@dataclass(frozen=True)
class ArtworkChoice:
    artwork_id: str
    label: str


def list_customer_artwork(*, ticket: Ticket) -> list[ArtworkChoice]:
    """The artwork of the customer's recent PERP orders, for "send proof from PERP"."""
    context = get_customer_context(customer=ticket.customer)
    if context.perp is None:
        return []
    return [
        ArtworkChoice(
            artwork_id=artwork.id,
            label=f"{detail.order.number} · {artwork.file_name} "
            f"({artwork.proof_status.replace('_', ' ')})",
        )
        for detail in context.perp.orders
        for artwork in detail.artwork
    ]
