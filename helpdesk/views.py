from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from helpdesk.selectors import get_dashboard_summary


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# Exempt: it changes nothing, and an unknown API URL should answer 404, not a CSRF 403.
@csrf_exempt
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Any URL under /api/ that no API route matches: the API's JSON error, not an HTML page."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = get_dashboard_summary(user=request.user)
    return render(request, "dashboard.html", {"summary": summary})
