"""HTML pages: the analytics dashboard (staff) and the public CSAT survey."""

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from analytics.forms import CsatAnswerForm
from analytics.selectors import get_survey_by_token
from analytics.services import answer_csat_survey
from helpdesk.errors import ApplicationError, Conflict

CSAT_RATE_LIMIT = 30  # requests per client address per minute


def _csat_rate_limited(request: HttpRequest) -> bool:
    # Tokens are unguessable; this only stops someone hammering the endpoint.
    key = f"csat-rate:{request.META.get('REMOTE_ADDR', '')}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=90)
    return cache.incr(key) > CSAT_RATE_LIMIT


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
