"""Print-shop pages: the public proof page (no login) and the ticket's proofs & orders panel.

Staff forms post normally (the panel also works as a page of its own without JavaScript) and
htmx posts the same forms, swapping `#printshop-panel` in place.
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, can, require
from core.decorators import staff_page
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from core.ratelimit import client_ip
from printshop import selectors, services
from printshop.models import Proof
from printshop.preflight import PrintSize
from tickets.models import Ticket, TicketStatus
from tickets.selectors import get_ticket_for_user

# Sizes offered in the forms (trim, millimetres); "custom" takes the two number fields.
PRINT_SIZES = {
    "a4": ("A4", Decimal(210), Decimal(297)),
    "a5": ("A5", Decimal(148), Decimal(210)),
    "a6": ("A6", Decimal(105), Decimal(148)),
    "dl": ("DL", Decimal(99), Decimal(210)),
    "card": ("Business card", Decimal(85), Decimal(55)),
    "a3": ("A3", Decimal(297), Decimal(420)),
}
MAX_PRINT_MM = Decimal(10000)


# Public proof page -------------------------------------------------------------------------------


def _public_response(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of search engines and other sites' Referer headers.
    # Not "no-referrer": browsers then send `Origin: null` with the form post and CSRF fails.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def public_proof(request: HttpRequest, token: str) -> HttpResponse:
    proof = selectors.get_proof_by_token(token=token)
    if proof is None:
        return _public_response(render(request, "printshop/public/not_found.html", status=404))
    context = {"proof": proof, "versions": selectors.list_line_versions(proof=proof)}
    if selectors.is_proof_link_expired(proof):
        response = render(request, "printshop/public/expired.html", context, status=410)
        return _public_response(response)
    status = 200
    if request.method == "POST" and not (proof.is_decided or proof.is_superseded):
        try:
            services.decide_proof(
                token=token,
                decision=request.POST.get("decision", ""),
                comment=request.POST.get("comment", ""),
                ip=client_ip(request),
            )
            return redirect("printshop:public-proof", token=token)
        except Conflict:
            # Decided in another tab a moment ago: the page shows that decision.
            return redirect("printshop:public-proof", token=token)
        except ApplicationError as exc:
            context["error"] = exc
            context["comment"] = request.POST.get("comment", "")
            status = exc.status
    return _public_response(render(request, "printshop/public/proof.html", context, status=status))


@never_cache
@require_GET
def public_proof_file(request: HttpRequest, token: str) -> HttpResponse:
    """The proof file, only through its token (never a guessable media URL)."""
    proof = selectors.get_proof_by_token(token=token)
    if proof is None:
        raise Http404("No such proof.")
    if selectors.is_proof_link_expired(proof):
        return _public_response(HttpResponse("This proof link has expired.", status=410))
    return _public_response(_file_response(proof))


@never_cache
@require_GET
def public_proof_preview(request: HttpRequest, token: str) -> HttpResponse:
    """The proof's PNG thumbnail (the storefront widget's card), under the file's rules."""
    proof = selectors.get_proof_by_token(token=token)
    if proof is None or not proof.preview_key:
        raise Http404("No preview of this proof.")
    if selectors.is_proof_link_expired(proof):
        return _public_response(HttpResponse("This proof link has expired.", status=410))
    response = FileResponse(default_storage.open(proof.preview_key, "rb"), content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return _public_response(response)


def _file_response(proof: Proof) -> FileResponse:
    response = FileResponse(
        proof.file.open("rb"),
        content_type=proof.content_type,
        as_attachment=False,
        filename=proof.file_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if proof.is_image:
        # Opened on its own, an image document may load nothing else.
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response


# Staff panel -------------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _panel_context(request: HttpRequest, ticket: Ticket) -> dict:
    drafts, lines = selectors.list_ticket_proofs(ticket=ticket)
    return {
        "ticket": ticket,
        "drafts": drafts,
        "lines": lines,
        "orders": selectors.get_linked_order_statuses(ticket=ticket),
        "artwork": selectors.list_customer_artwork(ticket=ticket),
        "print_sizes": [
            (key, f"{name} ({PrintSize(width_mm=w, height_mm=h)})")
            for key, (name, w, h) in PRINT_SIZES.items()
        ],
        "can_send": can(request.user, Action.REPLY_TICKET) and ticket.status != TicketStatus.CLOSED,
        "can_link": can(request.user, Action.UPDATE_TICKET),
    }


def _render_panel(
    request: HttpRequest, ticket: Ticket, *, error: ApplicationError | None = None
) -> HttpResponse:
    context = {**_panel_context(request, ticket), "error": error, "form": request.POST}
    # htmx only swaps 2xx answers; a plain form post gets the real status.
    status = 200 if error is None or _is_htmx(request) else error.status
    template = "printshop/_panel.html" if _is_htmx(request) else "printshop/panel_page.html"
    return render(request, template, context, status=status)


@staff_page
@require_GET
def ticket_panel(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    return _render_panel(request, ticket)


def _panel_action(
    request: HttpRequest,
    reference: str,
    perform: Callable[[Ticket], object],
    *,
    action: Action = Action.REPLY_TICKET,
) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    require(request.user, action)  # before parsing the form: a Viewer gets 403, not 400
    try:
        perform(ticket)
    except (PermissionDenied, NotFound):
        raise
    except ApplicationError as exc:
        return _render_panel(request, ticket, error=exc)
    if _is_htmx(request):
        return _render_panel(request, ticket)
    return redirect(reverse("printshop:ticket-panel", args=[ticket.reference]))


def _print_size(data) -> PrintSize | None:
    choice = data.get("print_size", "")
    if choice in PRINT_SIZES:
        _, width, height = PRINT_SIZES[choice]
        return PrintSize(width_mm=width, height_mm=height)
    if choice != "custom":
        return None
    try:
        width, height = Decimal(data.get("width_mm", "")), Decimal(data.get("height_mm", ""))
    except InvalidOperation as exc:
        raise ApplicationError(
            "Give the print size in millimetres.",
            code="invalid_print_size",
            fields={"print_size": ["Width and height in mm."]},
        ) from exc
    if not (0 < width <= MAX_PRINT_MM and 0 < height <= MAX_PRINT_MM):
        raise ApplicationError(
            "The print size must be between 1 mm and 10 m.",
            code="invalid_print_size",
            fields={"print_size": ["Out of range."]},
        )
    return PrintSize(
        width_mm=width.quantize(Decimal("0.1")), height_mm=height.quantize(Decimal("0.1"))
    )


@staff_page
@require_POST
def proof_upload(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(ticket: Ticket) -> Proof:
        return services.create_proof_from_upload(
            ticket=ticket,
            actor=request.user,
            upload=request.FILES.get("file"),
            target=services.ProofTarget(
                order_number=request.POST.get("order_number", "")[:64],
                order_line=request.POST.get("order_line", "")[:120],
                perp_artwork_id=request.POST.get("perp_artwork_id", "")[:64],
                print_size=_print_size(request.POST),
            ),
        )

    return _panel_action(request, reference, perform)


@staff_page
@require_POST
def proof_from_attachment(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    return _panel_action(
        request,
        reference,
        lambda ticket: services.create_proof_from_attachment(
            ticket=ticket,
            actor=request.user,
            attachment_id=attachment_id,
            target=services.ProofTarget(),
        ),
    )


@staff_page
@require_POST
def proof_from_perp(request: HttpRequest, reference: str) -> HttpResponse:
    return _panel_action(
        request,
        reference,
        lambda ticket: services.create_proof_from_perp(
            ticket=ticket,
            actor=request.user,
            artwork_id=request.POST.get("artwork_id", "")[:64],
            print_size=_print_size(request.POST),
        ),
    )


@staff_page
@require_POST
def proof_send(request: HttpRequest, reference: str, proof_id: int) -> HttpResponse:
    return _panel_action(
        request,
        reference,
        lambda ticket: services.send_proof(
            proof=selectors.get_ticket_proof(ticket=ticket, proof_id=proof_id),
            actor=request.user,
            message=request.POST.get("message", ""),
        ),
    )


@staff_page
@require_POST
def proof_discard(request: HttpRequest, reference: str, proof_id: int) -> HttpResponse:
    return _panel_action(
        request,
        reference,
        lambda ticket: services.discard_proof_draft(
            proof=selectors.get_ticket_proof(ticket=ticket, proof_id=proof_id), actor=request.user
        ),
    )


@staff_page
@require_POST
def proof_retry_perp(request: HttpRequest, reference: str, proof_id: int) -> HttpResponse:
    return _panel_action(
        request,
        reference,
        lambda ticket: services.retry_perp_write_back(
            proof=selectors.get_ticket_proof(ticket=ticket, proof_id=proof_id), actor=request.user
        ),
    )


@staff_page
@require_GET
def proof_file(request: HttpRequest, reference: str, proof_id: int) -> HttpResponse:
    """Staff preview of any proof of the ticket, drafts included."""
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    return _file_response(selectors.get_ticket_proof(ticket=ticket, proof_id=proof_id))


@staff_page
@require_POST
def order_link(request: HttpRequest, reference: str) -> HttpResponse:
    return _panel_action(
        request,
        reference,
        lambda ticket: services.link_order_by_number(
            ticket=ticket, actor=request.user, number=request.POST.get("number", "")[:64]
        ),
        action=Action.UPDATE_TICKET,
    )
