"""Print-shop reads shared by the ticket panel, the public proof page, the API and threading."""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import NotFound
from integrations.selectors import get_customer_context
from printshop.models import Proof, TicketOrder
from tickets.models import Ticket
from tickets.references import normalize_order_number

# secrets.token_urlsafe: anything else (NUL bytes included, which PostgreSQL refuses) is unknown.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")

# Proofs ------------------------------------------------------------------------------------------


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
