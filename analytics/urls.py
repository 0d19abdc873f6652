"""HTML pages of the analytics app (mounted at the site root; paths are spelled out in full)."""

app_name = "analytics"

urlpatterns: list = []
