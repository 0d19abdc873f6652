"""Privacy pages: a customer's requests, export, erase (with a confirmation step), downloads."""

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, can
from core.decorators import staff_page
from core.errors import ApplicationError, PermissionDenied
from privacy import selectors, services
from tickets.selectors import count_customer_records, get_customer_for_user

CONFIRM_WORD = "ERASE"


@staff_page
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    requests = selectors.list_requests(user=request.user)[:200]
    return render(request, "privacy/list.html", {"requests": requests})


@staff_page
@require_GET
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    privacy_request = selectors.get_request(user=request.user, request_id=request_id)
    return render(
        request,
        "privacy/detail.html",
        {"item": privacy_request, "can_download": can(request.user, Action.EXPORT_CUSTOMERS)},
    )


@staff_page
@require_GET
def download(request: HttpRequest, request_id: int) -> FileResponse:
    privacy_request = selectors.get_archive(user=request.user, request_id=request_id)
    response = FileResponse(
        privacy_request.archive.open("rb"),
        as_attachment=True,
        filename=f"customer-data-{privacy_request.pk}.zip",
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _customer_page(request: HttpRequest, customer, *, error=None, status=200) -> HttpResponse:
    context = {
        "customer": customer,
        "requests": selectors.list_requests(user=request.user, customer_id=customer.pk)[:50],
        "counts": count_customer_records(customer=customer),
        "can_export": can(request.user, Action.EXPORT_CUSTOMERS),
        "can_erase": can(request.user, selectors.ERASE_CUSTOMER),
        "confirm_word": CONFIRM_WORD,
        "error": error,
    }
    return render(request, "privacy/customer.html", context, status=status)


@staff_page
@require_GET
def customer_privacy(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_customer_for_user(user=request.user, customer_id=customer_id)
    if not selectors.can_see_requests(request.user):
        raise PermissionDenied("You do not have permission to do that.")
    return _customer_page(request, customer)


@staff_page
@require_POST
def customer_export(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_customer_for_user(user=request.user, customer_id=customer_id)
    try:
        created = services.export_customer_data(customer=customer, actor=request.user)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _customer_page(request, customer, error=exc, status=exc.status)
    return redirect("privacy:request", request_id=created.pk)


@staff_page
@require_http_methods(["GET", "POST"])
def customer_erase(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET shows exactly what goes and what stays; POST with the typed word erases."""
    customer = get_customer_for_user(user=request.user, customer_id=customer_id)
    if not can(request.user, selectors.ERASE_CUSTOMER):
        raise PermissionDenied("You do not have permission to do that.")
    if request.method == "POST" and request.POST.get("confirm", "").strip() == CONFIRM_WORD:
        created = services.erase_customer(customer=customer, actor=request.user)
        return redirect("privacy:request", request_id=created.pk)
    context = {
        "customer": customer,
        "counts": count_customer_records(customer=customer),
        "confirm_word": CONFIRM_WORD,
        "is_retry": request.method == "POST",
    }
    return render(request, "privacy/erase_confirm.html", context, status=200)
