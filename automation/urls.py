from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("tickets/<str:reference>/sla/", views.ticket_sla_panel, name="ticket-sla"),
    path("automation/rules/", views.rule_list, name="rule-list"),
    path("automation/rules/new/", views.rule_create, name="rule-create"),
    path("automation/rules/<int:rule_id>/", views.rule_edit, name="rule-edit"),
    path(
        "automation/rules/<int:rule_id>/activate/",
        views.rule_set_active,
        {"is_active": True},
        name="rule-activate",
    ),
    path(
        "automation/rules/<int:rule_id>/deactivate/",
        views.rule_set_active,
        {"is_active": False},
        name="rule-deactivate",
    ),
    path("automation/rules/<int:rule_id>/test/", views.rule_test, name="rule-test"),
    path("automation/sla/", views.sla_overview, name="sla"),
    path("automation/sla/policies/new/", views.sla_policy_create, name="sla-policy-create"),
    path("automation/sla/policies/<int:policy_id>/", views.sla_policy_edit, name="sla-policy-edit"),
    path("automation/sla/calendars/new/", views.calendar_create, name="calendar-create"),
    path("automation/sla/calendars/<int:calendar_id>/", views.calendar_edit, name="calendar-edit"),
    path("automation/webhooks/", views.webhook_list, name="webhook-list"),
    path("automation/webhooks/new/", views.webhook_create, name="webhook-create"),
    path("automation/webhooks/<int:endpoint_id>/", views.webhook_edit, name="webhook-edit"),
    path(
        "automation/webhooks/<int:endpoint_id>/rotate-secret/",
        views.webhook_rotate_secret,
        name="webhook-rotate-secret",
    ),
    path(
        "automation/webhooks/<int:endpoint_id>/test/",
        views.webhook_send_test,
        name="webhook-test",
    ),
]
