"""HTML pages of the integrations app (mounted at the site root; paths are spelled out in full)."""

app_name = "integrations"

urlpatterns: list = []
