"""Password set/reset links sent with Django's `send_mail` (whatever EMAIL_BACKEND is set)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User

TEMPLATES = {
    "invite": ("accounts/email/invite_subject.txt", "accounts/email/invite_body.txt"),
    "reset": ("accounts/email/reset_subject.txt", "accounts/email/reset_body.txt"),
}


def send_password_email(*, user_id: int, kind: str) -> bool:
    """Mail a one-time password link; False when the user is gone, inactive or has no email."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    base = urlsplit(settings.PUBLIC_BASE_URL)
    context = {
        "email": user.email,
        "domain": base.netloc,
        "site_name": "Printdesk",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": base.scheme or "https",
    }
    subject_template, body_template = TEMPLATES[kind]
    PasswordResetForm().send_mail(subject_template, body_template, context, None, user.email)
    return True
