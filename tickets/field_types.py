"""Checking a custom field's value by its kind (pure: no writes, no queries)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from core.errors import ApplicationError
from tickets.models import CustomField, CustomFieldKind

MAX_TEXT = 200


def invalid_field(key: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", fields={key: [message]})


def clean_value(field: CustomField, raw) -> str | None:
    """The canonical text of `raw` for `field`; blank clears it; a bad value is a 400."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    if field.kind == CustomFieldKind.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise invalid_field(field.key, "Not a number.") from exc
        if not number.is_finite():
            raise invalid_field(field.key, "Not a number.")
        return format(number.normalize(), "f")
    if field.kind == CustomFieldKind.DATE:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise invalid_field(field.key, "Not a date (YYYY-MM-DD).") from exc
    if field.kind == CustomFieldKind.CHOICE and text not in field.choices:
        raise invalid_field(field.key, f"One of: {', '.join(field.choices)}.")
    if len(text) > MAX_TEXT:
        raise invalid_field(field.key, f"At most {MAX_TEXT} characters.")
    return text
