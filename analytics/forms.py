"""Forms of the analytics app: the public CSAT answer and the report filters."""

from django import forms

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
        label="How satisfied are you with the help you got?",
        error_messages={"required": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything you want to tell us? (optional)",
    )
