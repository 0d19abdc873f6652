"""REST API of the knowledge app (mounted under /api/)."""

urlpatterns: list = []
