from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.request_list, name="requests"),
    path("privacy/requests/<int:request_id>/", views.request_detail, name="request"),
    path("privacy/requests/<int:request_id>/download/", views.download, name="download"),
    path("customers/<int:customer_id>/privacy/", views.customer_privacy, name="customer"),
    path("customers/<int:customer_id>/privacy/export/", views.customer_export, name="export"),
    path("customers/<int:customer_id>/privacy/erase/", views.customer_erase, name="erase"),
]
