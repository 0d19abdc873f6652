"""The one DRF exception handler: every error leaves as {"detail", "code"} (plus field errors)."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


def flatten_field_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors (a list item, a nested serializer) as one flat {"a.0.b": [...]} map,
    so every error body keeps the documented shape `fields: {name: [message, ...]}`."""
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return {prefix or "non_field_errors": [str(e) for e in errors]}
    elif isinstance(errors, list):
        items = enumerate(errors)
    else:
        return {prefix or "non_field_errors": [str(errors)]}
    flat: dict[str, list[str]] = {}
    for key, value in items:
        if value:
            flat.update(flatten_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        data: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.fields:
            data["fields"] = exc.fields
        return Response(data, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        detail = "; ".join(exc.messages) or "Invalid input."
        data = {"detail": detail, "code": "invalid"}
        if fields:
            data["fields"] = fields
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": "Invalid input.",
            "code": "invalid",
            "fields": flatten_field_errors(response.data),
        }
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": str(exc.detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response
