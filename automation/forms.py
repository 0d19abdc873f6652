"""Forms for rules, shared by Django admin and the staff pages: one validation (the model's
`clean`, i.e. `automation.rules.validate_conditions/validate_actions`) for both."""

import json

from django import forms

from automation.models import Rule
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
