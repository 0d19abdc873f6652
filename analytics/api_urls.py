"""REST API of the analytics app (mounted under /api/)."""

from django.urls import path

from analytics import api

urlpatterns = [
    path("analytics/summary/", api.AnalyticsSummaryApi.as_view(), name="analytics-summary"),
    path("analytics/volume/", api.AnalyticsVolumeApi.as_view(), name="analytics-volume"),
    path(
        "analytics/first-response/",
        api.AnalyticsFirstResponseApi.as_view(),
        name="analytics-first-response",
    ),
    path(
        "analytics/resolution/", api.AnalyticsResolutionApi.as_view(), name="analytics-resolution"
    ),
    path("analytics/reopens/", api.AnalyticsReopensApi.as_view(), name="analytics-reopens"),
    path("analytics/csat/", api.AnalyticsCsatApi.as_view(), name="analytics-csat"),
    path(
        "analytics/csat-answers/",
        api.AnalyticsCsatAnswersApi.as_view(),
        name="analytics-csat-answers",
    ),
    path(
        "analytics/sla-breaches/",
        api.AnalyticsSlaBreachesApi.as_view(),
        name="analytics-sla-breaches",
    ),
    path("analytics/backlog/", api.AnalyticsBacklogApi.as_view(), name="analytics-backlog"),
    path("analytics/agents/", api.AnalyticsAgentsApi.as_view(), name="analytics-agents"),
    path("analytics/heatmap/", api.AnalyticsHeatmapApi.as_view(), name="analytics-heatmap"),
]
