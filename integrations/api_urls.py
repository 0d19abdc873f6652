"""REST API of the integrations app (mounted under /api/)."""

urlpatterns: list = []
