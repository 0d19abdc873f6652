"""HTML pages of the tickets app (mounted at the site root; paths are spelled out in full)."""

app_name = "tickets"

urlpatterns: list = []
