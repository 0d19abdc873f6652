"""The OpenAPI shape of an error answer, shared by every app's API: what `core.errors` renders."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

ERROR = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        # Validation errors name their fields: {"fields": {"email": ["Enter a valid email."]}}.
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)
