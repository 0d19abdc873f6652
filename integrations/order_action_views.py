"""The order-action panel of the ticket sidebar (htmx): forms, the confirmation step showing
exactly what will change, and the outcome (docs/orders.md). The API is order_actions_api.py."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Action, can
from core.decorators import staff_page
from core.errors import ApplicationError, PermissionDenied
from integrations import order_actions
from integrations.models import OrderActionReason
from integrations.selectors import list_ticket_order_numbers
from tickets.selectors import get_ticket_for_user

PERFORM = {
    "reprint": (order_actions.preview_reprint, order_actions.perform_reprint),
    "refund": (order_actions.preview_refund, order_actions.perform_refund),
    "cancel": (order_actions.preview_cancel, order_actions.perform_cancel),
    "address": (order_actions.preview_address, order_actions.perform_address),
}


def _allowed(user) -> dict[str, bool]:
    return {
        "can_edit_orders": can(user, Action.EDIT_ORDERS),
        "can_refund_orders": can(user, Action.REFUND_ORDERS),
    }


def _int(value: str | None) -> int | None:
    return int(value) if (value or "").strip().isdigit() else None


def _arguments(kind: str, post) -> dict:
    """The service's keyword arguments from the form (validation is the service's)."""
    if kind == "reprint":
        return {
            "reason": post.get("reason", ""),
            "line_id": post.get("line_id", ""),
            "quantity": _int(post.get("quantity")),
            "perp_reference": post.get("perp_reference", ""),
        }
    if kind == "refund":
        return {
            "line_id": post.get("line_id", ""),
            "quantity": _int(post.get("quantity")),
            "include_shipping": post.get("include_shipping") == "1",
        }
    if kind == "cancel":
        return {
            "reason": post.get("reason", ""),
            "refund": post.get("refund") == "1",
            "restock": post.get("restock") == "1",
        }
    if kind == "address":
        return {"address": {k: post[k] for k in order_actions.ADDRESS_FIELDS if k in post}}
    return {
        "reason": post.get("reason", ""),
        "percentage": post.get("percentage", ""),
        "amount": post.get("amount", ""),
    }


def _error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    # 200 so htmx swaps the message in place of the form (the status is in the markup).
    return render(request, "integrations/order_actions/_error.html", {"error": exc})


@staff_page
@require_GET
def order_panel(request: HttpRequest, reference: str, number: str) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    allowed = _allowed(request.user)
    if not any(allowed.values()):
        raise PermissionDenied("You do not have permission to do that.")
    try:
        _, order = order_actions.load_order(ticket=ticket, order_name=number)
    except ApplicationError as exc:
        return _error(request, exc)
    perp = [n for n in list_ticket_order_numbers(ticket=ticket) if not n.startswith("#")]
    context = {
        "ticket": ticket,
        "order": order,
        "number": number,
        "reasons": OrderActionReason.choices,
        "cancel_reasons": order_actions.CANCEL_REASONS.items(),
        "perp_reference": perp[0] if perp else "",
        **allowed,
    }
    return render(request, "integrations/order_actions/panel.html", context)


@staff_page
@require_POST
def order_action(request: HttpRequest, reference: str, number: str, kind: str) -> HttpResponse:
    if kind not in PERFORM:
        return _error(request, ApplicationError("Unknown action.", code="unknown_action"))
    preview, perform = PERFORM[kind]
    return _step(request, reference, kind, preview, perform, order_name=number)


@staff_page
@require_POST
def discount_code(request: HttpRequest, reference: str) -> HttpResponse:
    return _step(
        request,
        reference,
        "discount",
        order_actions.preview_discount,
        order_actions.perform_discount,
    )


def _step(request, reference, kind, preview, perform, **extra) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    arguments = {**_arguments(kind, request.POST), **extra}
    try:
        if request.POST.get("confirm") != "1":
            shown = preview(ticket=ticket, actor=request.user, **arguments)
            context = {"ticket": ticket, "kind": kind, "preview": shown, "post": request.POST}
            return render(request, "integrations/order_actions/_confirm.html", context)
        if kind == "refund":
            arguments |= {
                "reason": request.POST.get("reason", ""),
                "amount": request.POST.get("amount", ""),
            }
        if kind == "discount":
            arguments["code"] = request.POST.get("code", "")
        action = perform(ticket=ticket, actor=request.user, **arguments)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _error(request, exc)
    return render(
        request, "integrations/order_actions/_done.html", {"ticket": ticket, "action": action}
    )
