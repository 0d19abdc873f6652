"""REST API of the tickets app (mounted under /api/)."""

urlpatterns: list = []
