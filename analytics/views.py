"""HTML pages: the analytics dashboard (staff) and the public CSAT survey."""

import csv
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import record_export
from accounts.permissions import Action, can
from analytics import reports
from analytics.forms import CsatAnswerForm, parse_report_filters, range_presets
from analytics.selectors import get_survey_by_token, list_teams
from analytics.services import answer_csat_survey
from core.errors import ApplicationError, Conflict
from core.ratelimit import client_ip, rate_limited
from tickets.models import ChannelKind
from tickets.selectors import list_custom_fields

CSAT_RATE_LIMIT = 30  # requests per client address per minute


def _csat_rate_limited(request: HttpRequest) -> bool:
    # Tokens are unguessable; this only stops someone hammering the endpoint.
    return rate_limited(key=f"csat:{client_ip(request)}", rate=f"{CSAT_RATE_LIMIT}/minute")


@require_http_methods(["GET", "POST"])
def csat_survey(request: HttpRequest, token: str) -> HttpResponse:
    if _csat_rate_limited(request):
        return render(request, "csat/rate_limited.html", status=429)
    survey = get_survey_by_token(token=token)
    if survey is None:
        return render(request, "csat/not_found.html", status=404)
    if survey.answered_at is not None:
        return render(request, "csat/answered.html", {"survey": survey})
    if survey.expires_at <= timezone.now():
        return render(request, "csat/expired.html", {"survey": survey}, status=410)
    form = CsatAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            answer_csat_survey(token=token, **form.cleaned_data)
            return redirect("analytics:csat", token=token)
        except Conflict:
            # Answered in another tab a moment ago: the page shows that answer.
            return redirect("analytics:csat", token=token)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    status = 400 if form.is_bound else 200
    return render(request, "csat/survey.html", {"survey": survey, "form": form}, status=status)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.VIEW_REPORTS):
        raise DjangoPermissionDenied
    context = {
        "teams": list_teams(),
        "channels": ChannelKind.choices,
        "ticket_fields": list_custom_fields(),
        "params": request.GET,
        "presets": range_presets(),
    }
    try:
        filters = parse_report_filters(data=request.GET)
    except ApplicationError as exc:
        return render(request, "analytics/dashboard.html", {**context, "error": exc}, status=400)
    if request.GET.get("format") == "csv":
        response = _csv_export(request.GET.get("table", ""), filters)
        if response.status_code == 200:
            record_export(actor=request.user, kind="analytics_csv", details=request.GET.dict())
        return response
    return render(
        request,
        "analytics/dashboard.html",
        {**context, **reports.build_report_page(filters=filters)},
    )


def _csv_export(table_name: str, filters) -> HttpResponse:
    if table_name not in reports.TABLES:
        return HttpResponse(
            f"Unknown table. Choose one of: {', '.join(reports.TABLES)}.",
            status=400,
            content_type="text/plain",
        )
    table = reports.build_table(table_name, filters=filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"printdesk-{table.name}-{filters.date_from}-{filters.date_to}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(table.header)
    writer.writerows([_csv_cell(cell) for cell in row] for row in table.rows)
    return response


def _csv_cell(cell):
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat()
    # Customer-written text (subjects) must not run as a formula in a spreadsheet.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell
