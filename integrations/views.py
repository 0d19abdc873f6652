"""HTML pages and partials of the integrations app: the customer 360 sidebar, provider images."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Action, can
from core.errors import ApplicationError
from core.files import SVG
from integrations.context_refresh import fetch_order_detail
from integrations.customer_context import (
    read_customer_context,
    request_customer_context_refresh,
)
from integrations.media_proxy import ProxiedImage, load_proxied_image, url_from_token
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


@login_required
@require_GET
def media_proxy(request: HttpRequest, token: str) -> HttpResponse:
    """A provider image through our origin (integrations/media_proxy.py); staff only."""
    if not can(request.user, Action.VIEW_TICKETS):
        raise PermissionDenied("Not allowed.")
    url = url_from_token(token)
    if url is None:
        raise Http404("No such image.")
    return _image_response(load_proxied_image(url=url))


# A week: the token names one provider URL, and a product photo's URL changes with the photo.
IMAGE_MAX_AGE_SECONDS = 7 * 24 * 3600
PLACEHOLDER_MAX_AGE_SECONDS = 60


def _image_response(image: ProxiedImage) -> HttpResponse:
    response = HttpResponse(image.body, content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # An <img> shows an SVG without running it; opened as a page it is downloaded, and the
    # sandbox keeps any script in it off our origin either way.
    response["Content-Disposition"] = "attachment" if image.content_type == SVG else "inline"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    max_age = PLACEHOLDER_MAX_AGE_SECONDS if image.is_placeholder else IMAGE_MAX_AGE_SECONDS
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response
