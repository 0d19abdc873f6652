"""REST API of the analytics app: the report summary and one endpoint per metric.

Every endpoint takes the page's filters (`from`, `to`, `channel`, `team`, `field`) and returns the
same numbers as /analytics/ (both read `analytics.rollup_selectors.get_report`: the daily
rollups, or live queries when the rollups cannot answer, e.g. with a `field` filter). Durations
are whole seconds, rates are fractions 0..1 (null when there is nothing to divide by).
"""

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, require
from analytics import selectors
from analytics.forms import parse_report_filters
from analytics.reports import SLA_TABLE_LIMIT, WEEKDAYS
from analytics.rollup_selectors import get_report
from analytics.selectors import ReportFilters
from core.api_schema import ERROR

FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 29 days ago)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)"),
    OpenApiParameter("channel", OpenApiTypes.STR, description="email, sms, whatsapp, ..."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id"),
    OpenApiParameter(
        "field", OpenApiTypes.STR, description="A ticket custom field: key:value (job_type:banner)"
    ),
]


def _seconds():
    return serializers.IntegerField(allow_null=True)


def _rate():
    return serializers.FloatField(allow_null=True, help_text="Fraction 0..1; null if no data.")


class FirstResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Tickets created in range with a first response.")
    median_seconds = _seconds()
    p90_seconds = _seconds()
    business_median_seconds = _seconds()
    business_p90_seconds = _seconds()


class ResolutionSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Tickets solved in range.")
    median_seconds = _seconds()
    p90_seconds = _seconds()


class ReopenSerializer(serializers.Serializer):
    solved = serializers.IntegerField()
    reopened = serializers.IntegerField()
    rate = _rate()


class CsatSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    satisfied = serializers.IntegerField(help_text="Answers rating 4 or 5.")
    rating_1 = serializers.IntegerField()
    rating_2 = serializers.IntegerField()
    rating_3 = serializers.IntegerField()
    rating_4 = serializers.IntegerField()
    rating_5 = serializers.IntegerField()
    score = _rate()
    response_rate = _rate()


class SlaSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text="Tickets whose deadline fell in range.")
    breached = serializers.IntegerField()
    rate = _rate()


class SlaBreachSerializer(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    channel = serializers.CharField()
    priority = serializers.CharField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    assignee_name = serializers.CharField(allow_null=True)


SummarySerializer = type(
    "AnalyticsSummarySerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "tickets_created": serializers.IntegerField(),
        "first_response": FirstResponseSerializer(),
        "resolution": ResolutionSerializer(),
        "reopens": ReopenSerializer(),
        "csat": CsatSerializer(),
        "sla": SlaSerializer(),
        "backlog": serializers.IntegerField(help_text="Unresolved tickets now."),
    },
)


class VolumeRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    channel = serializers.CharField()
    count = serializers.IntegerField()


class BacklogRowSerializer(serializers.Serializer):
    status = serializers.CharField()
    count = serializers.IntegerField()


class AgentRowSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    agent = serializers.CharField(help_text="Username.")
    name = serializers.CharField()
    assigned = serializers.IntegerField()
    solved = serializers.IntegerField()
    median_frt_seconds = _seconds()
    csat_answered = serializers.IntegerField()
    csat_score = _rate()


class CsatAnswerSerializer(serializers.Serializer):
    reference = serializers.CharField()
    rating = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)
    channel = serializers.CharField()
    answered_at = serializers.DateTimeField()
    assignee_name = serializers.CharField(allow_null=True)


class SlaBreachesSerializer(SlaSerializer):
    tickets = SlaBreachSerializer(many=True, help_text=f"First {SLA_TABLE_LIMIT * 2} breaches.")


class HeatmapSerializer(serializers.Serializer):
    weekdays = serializers.ListField(child=serializers.CharField())
    counts = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="7 rows (Monday first) of 24 hourly counts of customer messages, local time.",
    )


def _sla_breaches(filters: ReportFilters) -> dict:
    return {
        **get_report(filters=filters).sla_breaches(),
        "tickets": selectors.list_sla_breaches(filters=filters, limit=SLA_TABLE_LIMIT * 2),
    }


def _heatmap(filters: ReportFilters) -> dict:
    return {"weekdays": WEEKDAYS, "counts": get_report(filters=filters).busiest_hours()}


def report_api(
    name: str, summary: str, compute: Callable[[ReportFilters], object], output
) -> type[APIView]:
    """One APIView class per metric, all with the same filters, permission and errors."""
    many = isinstance(output, serializers.ListSerializer)
    serializer_class = output.child.__class__ if many else output.__class__

    @extend_schema(
        operation_id=f"analytics_{name}",
        tags=["analytics"],
        summary=summary,
        parameters=FILTER_PARAMETERS,
        responses={200: output, 400: ERROR, 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        require(request.user, Action.VIEW_REPORTS)
        filters = parse_report_filters(data=request.query_params)
        return Response(serializer_class(compute(filters), many=many).data)

    class_name = "Analytics" + "".join(part.title() for part in name.split("_")) + "Api"
    return type(class_name, (APIView,), {"get": get})


AnalyticsSummaryApi = report_api(
    "summary",
    "Key figures of the report",
    lambda f: get_report(filters=f).summary(),
    SummarySerializer(),
)
AnalyticsVolumeApi = report_api(
    "volume",
    "Tickets created per local day and channel (days without tickets are omitted)",
    lambda f: get_report(filters=f).volume_by_day(),
    VolumeRowSerializer(many=True),
)
AnalyticsFirstResponseApi = report_api(
    "first_response",
    "First response time, calendar and business hours",
    lambda f: get_report(filters=f).first_response_times(),
    FirstResponseSerializer(),
)
AnalyticsResolutionApi = report_api(
    "resolution",
    "Full resolution time of tickets solved in range",
    lambda f: get_report(filters=f).resolution_times(),
    ResolutionSerializer(),
)
AnalyticsReopensApi = report_api(
    "reopens",
    "Reopen rate of tickets solved in range",
    lambda f: get_report(filters=f).reopen_rate(),
    ReopenSerializer(),
)
AnalyticsCsatApi = report_api(
    "csat",
    "CSAT score (% rating 4-5) and response rate of surveys sent in range",
    lambda f: get_report(filters=f).csat(),
    CsatSerializer(),
)
AnalyticsCsatAnswersApi = report_api(
    "csat_answers",
    "Survey answers of surveys sent in range, lowest rating first",
    lambda f: selectors.list_csat_answers(filters=f),
    CsatAnswerSerializer(many=True),
)
AnalyticsSlaBreachesApi = report_api(
    "sla_breaches",
    "SLA breaches of tickets due in range",
    _sla_breaches,
    SlaBreachesSerializer(),
)
AnalyticsBacklogApi = report_api(
    "backlog",
    "Unresolved tickets now, per status",
    lambda f: get_report(filters=f).backlog_by_status(),
    BacklogRowSerializer(many=True),
)
AnalyticsAgentsApi = report_api(
    "agents",
    "Per-agent assigned, solved, median first response and CSAT",
    lambda f: get_report(filters=f).agent_stats(),
    AgentRowSerializer(many=True),
)
AnalyticsHeatmapApi = report_api(
    "heatmap",
    "Customer messages by weekday and hour",
    _heatmap,
    HeatmapSerializer(),
)
