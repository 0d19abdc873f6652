"""HTML pages of the knowledge app (mounted at the site root; paths are spelled out in full)."""

app_name = "knowledge"

urlpatterns: list = []
