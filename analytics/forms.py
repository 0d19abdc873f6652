"""Forms of the analytics app: the public CSAT answer and the report filters."""

from collections.abc import Mapping
from datetime import date, timedelta

from django import forms
from django.utils import timezone

from analytics.selectors import ReportFilters
from core.errors import ApplicationError
from tickets.field_types import clean_value
from tickets.models import ChannelKind, CustomField, CustomFieldTarget

CSAT_QUESTION = "How satisfied are you with the help you got?"
RATING_CHOICES = [
    (5, "5: Very satisfied"),
    (4, "4: Satisfied"),
    (3, "3: Neutral"),
    (2, "2: Dissatisfied"),
    (1, "1: Very dissatisfied"),
]


class CsatAnswerForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        label=CSAT_QUESTION,
        error_messages={"required": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything you want to tell us? (optional)",
    )


MAX_RANGE_DAYS = 3 * 366
DEFAULT_RANGE_DAYS = 30


def parse_report_filters(*, data: Mapping[str, str]) -> ReportFilters:
    """Report scope from query parameters `from`, `to` (YYYY-MM-DD), `channel`, `team` and
    `field` (`key:value`, a ticket custom field).

    Defaults to the last 30 days up to today. Bad input raises `ApplicationError` (400) with
    per-field messages, for the page and the API alike.
    """
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()

    def parse_date(name: str, default: date) -> date:
        raw = (data.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Use a date like 2026-03-31."]
            return default

    date_to = parse_date("to", today)
    date_from = parse_date("from", date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1))
    if not errors and date_from > date_to:
        errors["from"] = ["The start date is after the end date."]
    elif not errors and (date_to - date_from).days >= MAX_RANGE_DAYS:
        errors["from"] = [f"Choose a range of at most {MAX_RANGE_DAYS} days."]
    channel = (data.get("channel") or "").strip()
    if channel and channel not in ChannelKind.values:
        errors["channel"] = ["Unknown channel."]
    team = (data.get("team") or "").strip()
    if team and not team.isdigit():
        errors["team"] = ["Unknown team."]
    field_key, field_value = parse_field_filter(data.get("field") or "", errors)
    if errors:
        raise ApplicationError("Invalid report filters.", code="invalid", fields=errors)
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        channel=channel,
        team_id=int(team) if team else None,
        field_key=field_key,
        field_value=field_value,
    )


def parse_field_filter(spec: str, errors: dict[str, list[str]]) -> tuple[str, str]:
    """`key:value` of a ticket field -> (key, canonical value); blank -> no filter. Unlike the
    inbox (where a bad value lists nothing), a report says what is wrong with it."""
    if not spec.strip():
        return "", ""
    key, _, raw = spec.partition(":")
    field = CustomField.objects.filter(
        key=key.strip(), applies_to=CustomFieldTarget.TICKET, is_active=True
    ).first()
    if field is None:
        errors["field"] = ["Unknown ticket field: use key:value."]
        return "", ""
    try:
        value = clean_value(field, raw)
    except ApplicationError as exc:
        errors["field"] = exc.fields[field.key]
        return "", ""
    if value is None:
        errors["field"] = [f"Give a value: {field.key}:value."]
        return "", ""
    return field.key, value


def range_presets() -> list[tuple[str, date, date]]:
    """Shortcuts above the filters: (label, from, to) in local days."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        ("This week", monday, today),
        ("Last week", monday - timedelta(days=7), monday - timedelta(days=1)),
        ("Last 30 days", today - timedelta(days=29), today),
        ("This month", first_of_month, today),
        ("Last month", last_month_end.replace(day=1), last_month_end),
    ]
