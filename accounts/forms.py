"""Form parsing for the accounts pages (validation of input shape only; rules live in services)."""

from django import forms

from accounts.models import NotificationEmails


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    display_name = forms.CharField(max_length=150, required=False)
    roles = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, role_choices: list[str], editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(r, r) for r in role_choices]
        if editing:
            del self.fields["username"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional. Leave empty for a token that does not expire.",
    )


class CodeForm(forms.Form):
    """A 2FA code: six digits from the app, or a recovery code."""

    code = forms.CharField(max_length=32, strip=True)


class PasswordForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)


class NotificationSettingsForm(forms.Form):
    notification_emails = forms.ChoiceField(
        choices=NotificationEmails.choices,
        widget=forms.RadioSelect,
        label="Email me about mentions, assignments and handoffs",
    )
