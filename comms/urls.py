"""HTML pages of the comms app (mounted at the site root; paths are spelled out in full)."""

app_name = "comms"

urlpatterns: list = []
