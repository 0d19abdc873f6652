"""Product knowledge pages: the search page, staff notes, and the ticket's suggestions panel."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Action, can, require
from core.decorators import staff_page
from core.errors import ApplicationError, NotFound, PermissionDenied
from knowledge import embeddings, selectors, services
from knowledge.models import ProductNote
from knowledge.suggestions import get_ticket_suggestions, record_inserted_suggestion

SEARCH_LIMIT = 24


@staff_page
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_TICKETS)
    query = request.GET.get("q", "").strip()[:200]
    mode = request.GET.get("mode") or selectors.SearchMode.HYBRID
    if mode not in selectors.SearchMode.__members__.values():
        mode = selectors.SearchMode.HYBRID
    results, error = None, None
    if query:
        try:
            results = selectors.search_products(query=query, mode=mode, limit=SEARCH_LIMIT)
        except ApplicationError as exc:
            error = exc.message
    context = {
        "query": query,
        "mode": mode,
        "modes": list(selectors.SearchMode),
        "results": results,
        "error": error,
        "products": results.products if results else selectors.list_recent_products(),
        "is_semantic_available": embeddings.is_available(),
        "can_write_notes": can(request.user, Action.REPLY_TICKET),
    }
    return render(request, "knowledge/search.html", context)


@staff_page
@require_POST
def note_add(request: HttpRequest, product_id: int) -> HttpResponse:
    require(request.user, Action.REPLY_TICKET)
    product = selectors.get_product(product_id=product_id)
    try:
        services.add_product_note(
            product=product, author=request.user, body=request.POST.get("body", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('knowledge:search')}?{urlencode({'q': product.title})}")


@staff_page
@require_POST
def note_delete(request: HttpRequest, note_id: int) -> HttpResponse:
    require(request.user, Action.REPLY_TICKET)
    note = ProductNote.objects.select_related("product").filter(pk=note_id).first()
    if note is None:
        raise NotFound("No such note.", code="note_not_found")
    services.delete_product_note(note=note, actor=request.user)
    return redirect(f"{reverse('knowledge:search')}?{urlencode({'q': note.product.title})}")


@staff_page
@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    reference = request.GET.get("ticket", "")
    suggestion = get_ticket_suggestions(user=request.user, reference=reference)
    return render(request, "knowledge/_suggestions.html", {"s": suggestion})


@staff_page
@require_POST
def suggestion_used(request: HttpRequest) -> HttpResponse:
    product = request.POST.get("product", "")
    if not product.isdigit():
        return HttpResponse("Which product?", status=400, content_type="text/plain")
    try:
        record_inserted_suggestion(
            user=request.user, reference=request.POST.get("ticket", ""), product_id=int(product)
        )
    except ApplicationError as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    return HttpResponse(status=204)
