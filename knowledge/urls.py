"""HTML pages of the knowledge app (mounted at the site root; paths are spelled out in full)."""

from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("knowledge/", views.search, name="search"),
    path("knowledge/suggestions/", views.suggestions, name="suggestions"),
    path("knowledge/suggestions/used/", views.suggestion_used, name="suggestion_used"),
    path("knowledge/products/<int:product_id>/notes/", views.note_add, name="note_add"),
    path("knowledge/notes/<int:note_id>/delete/", views.note_delete, name="note_delete"),
]
