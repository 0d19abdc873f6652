"""Forms of the automation staff pages. The rule form is shared with Django admin: one validation
(the model's `clean`, i.e. `automation.rules.validate_conditions/validate_actions`) for both."""

import json
import secrets
from itertools import pairwise

from django import forms
from django.core.validators import URLValidator

from automation.models import (
    BusinessCalendar,
    Holiday,
    Rule,
    SlaPolicy,
    WebhookEndpoint,
    WebhookEventType,
    Weekday,
    WorkingHours,
)
from automation.rules import ACTIONS_HELP, FORMAT_HELP

CONDITIONS_EXAMPLE = [
    {"field": "channel", "op": "equals", "value": "whatsapp"},
    {"field": "customer_is_vip", "op": "equals", "value": True},
]
ACTIONS_EXAMPLE = [
    {"type": "set_priority", "priority": "high"},
    {"type": "assign_team", "team": "sales", "round_robin": True},
]


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value):
        if isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class RuleForm(forms.ModelForm):
    conditions = PrettyJSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=f"{FORMAT_HELP} Example: {json.dumps(CONDITIONS_EXAMPLE)}",
    )
    actions = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=f"{ACTIONS_HELP} Example: {json.dumps(ACTIONS_EXAMPLE)}",
    )

    class Meta:
        model = Rule
        fields = [
            "name",
            "description",
            "event",
            "conditions",
            "actions",
            "position",
            "stop_processing",
            "is_active",
        ]

    def clean_conditions(self):
        return self.cleaned_data.get("conditions") or []


class SlaPolicyForm(forms.ModelForm):
    """Targets for one priority (optionally one channel); the model's constraint keeps one policy
    per priority and channel."""

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "priority",
            "channel",
            "calendar",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "warn_before_minutes",
            "ship_date_margin_minutes",
            "is_active",
        ]


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ["name", "timezone", "is_default"]
        help_texts = {
            "timezone": "An IANA time zone, e.g. Europe/London.",
            "is_default": "Rules' business-hours condition uses the default calendar; making "
            "this one the default unsets the previous one.",
        }

    def _get_validation_exclusions(self):
        # The one-default constraint is kept by `save_calendar`, which moves the default here.
        exclusions = super()._get_validation_exclusions()
        exclusions.add("is_default")
        return exclusions


class BaseWorkingHoursFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """Shifts of one weekday must not overlap (the calendar sums them as business time)."""
        super().clean()
        by_day: dict[int, list[tuple]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not data.get("start") or not data.get("end"):
                continue
            by_day.setdefault(data["weekday"], []).append((data["start"], data["end"]))
        for weekday, shifts in by_day.items():
            shifts.sort()
            for (_, end), (start, _) in pairwise(shifts):
                if start < end:
                    day = Weekday(weekday).label
                    raise forms.ValidationError(f"{day}: working hours overlap.")


WorkingHoursFormSet = forms.inlineformset_factory(
    BusinessCalendar,
    WorkingHours,
    formset=BaseWorkingHoursFormSet,
    fields=["weekday", "start", "end"],
    widgets={
        "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    },
    extra=1,
    can_delete=True,
)

HolidayFormSet = forms.inlineformset_factory(
    BusinessCalendar,
    Holiday,
    fields=["date", "name"],
    widgets={"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")},
    extra=1,
    can_delete=True,
)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "secret", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("secret", secrets.token_hex(32))

    def save(self, commit=True):
        endpoint = super().save(commit=False)
        if endpoint.is_active and endpoint.disabled_at is not None:
            # Re-activated by an admin: start counting failures afresh.
            endpoint.disabled_at = None
            endpoint.failure_count = 0
        if commit:
            endpoint.save()
        return endpoint


class StaffWebhookEndpointForm(WebhookEndpointForm):
    """The staff page's form: the secret is generated and rotated by the server, never typed,
    and only web URLs are accepted."""

    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["https", "http"])],
        help_text="Where Printdesk POSTs signed JSON, e.g. https://example.com/hooks/printdesk.",
    )

    class Meta(WebhookEndpointForm.Meta):
        fields = ["name", "url", "events", "is_active"]
