"""HTML pages and partials of the integrations app: the customer 360 sidebar."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Action, can
from core.errors import ApplicationError
from integrations.context_refresh import fetch_order_detail
from integrations.customer_context import (
    read_customer_context,
    request_customer_context_refresh,
)
from integrations.models import OrderActionReason
from integrations.selectors import (
    get_customer_for_context,
    get_ticket_reference_for_customer,
    list_ticket_order_numbers,
)
from tickets.services import link_customer_account


def _error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "integrations/error.html", {"message": exc.message}, status=exc.status)


@login_required
@require_GET
def customer_context(request: HttpRequest, customer_id: int) -> HttpResponse:
    if not can(request.user, Action.VIEW_CUSTOMERS):
        return render(request, "integrations/error.html", {"message": "Not allowed."}, status=403)
    try:
        customer = get_customer_for_context(customer_id=customer_id)
    except ApplicationError as exc:
        return _error(request, exc)
    return _render_context(request, customer, reference=request.GET.get("ticket", ""))


@login_required
@require_POST
def customer_context_refresh(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The sidebar's Refresh button: ask Shopify and PERP again in the background."""
    if not can(request.user, Action.VIEW_CUSTOMERS):
        return render(request, "integrations/error.html", {"message": "Not allowed."}, status=403)
    try:
        customer = get_customer_for_context(customer_id=customer_id)
    except ApplicationError as exc:
        return _error(request, exc)
    if request.headers.get("HX-Request"):
        reference = request.POST.get("ticket", "")
        return _render_context(request, customer, reference=reference, force_refresh=True)
    request_customer_context_refresh(customer_id=customer.pk)
    return redirect(f"/customers/{customer.pk}/")


def _render_context(
    request: HttpRequest, customer, *, reference: str, force_refresh: bool = False
) -> HttpResponse:
    context = read_customer_context(customer=customer, force_refresh=force_refresh)
    ticket = get_ticket_reference_for_customer(customer=customer, reference=reference)
    return render(
        request,
        "integrations/customer_context.html",
        {
            "customer": customer,
            "ctx": context,
            "ticket": ticket,
            "mentioned_orders": list_ticket_order_numbers(ticket=ticket) if ticket else [],
            "can_link": can(request.user, Action.EDIT_CUSTOMERS),
            "can_edit_orders": can(request.user, Action.EDIT_ORDERS),
            "can_refund_orders": can(request.user, Action.REFUND_ORDERS),
            "reasons": OrderActionReason.choices,
        },
    )


@login_required
@require_GET
def customer_order(request: HttpRequest, customer_id: int) -> HttpResponse:
    if not can(request.user, Action.VIEW_CUSTOMERS):
        return render(request, "integrations/error.html", {"message": "Not allowed."}, status=403)
    try:
        customer = get_customer_for_context(customer_id=customer_id)
    except ApplicationError as exc:
        return _error(request, exc)
    number = request.GET.get("number", "").strip()[:40]
    if not number:
        return _error(request, ApplicationError("Which order?", code="missing_number"))
    detail = fetch_order_detail(customer=customer, number=number)
    template = (
        "integrations/order_detail.html"
        if request.headers.get("HX-Request")
        else "integrations/order_page.html"
    )
    return render(request, template, {"customer": customer, "detail": detail})


@login_required
@require_POST
def customer_link(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Link (with an id) or unlink (without) a Shopify/PERP account by hand."""
    try:
        customer = get_customer_for_context(customer_id=customer_id)
        link_customer_account(
            customer=customer,
            provider=request.POST.get("provider", ""),
            external_id=request.POST.get("external_id", ""),
            actor=request.user,
            is_manual=True,
        )
    except ApplicationError as exc:
        return _error(request, exc)
    if request.headers.get("HX-Request"):
        customer = get_customer_for_context(customer_id=customer.pk)
        return _render_context(request, customer, reference=request.POST.get("ticket", ""))
    return redirect(f"/customers/{customer.pk}/")
