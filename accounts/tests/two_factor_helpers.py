"""Helpers for tests that sign in with a second factor (an authenticator app, in code)."""

import datetime as dt

import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD


def current_code(device: TOTPDevice) -> str:
    """What the authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def enable_two_factor(user: User) -> list[str]:
    """Turn 2FA on for `user` through the services; returns the recovery codes."""
    device = two_factor.start_two_factor_enrolment(user=user)
    return two_factor.confirm_two_factor(user=user, token=current_code(device)).recovery_codes


def next_step(steps: int = 1):
    """Travel past the codes already used (a TOTP code is accepted once)."""
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=30 * steps + 1), tick=True)


def sign_in_with_code(client, user: User, *, password: str = DEFAULT_PASSWORD) -> None:
    """Password step then code step, as a person would; asserts both steps pass."""
    first = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert first.status_code == 302 and first["Location"] == "/accounts/login/verify/", first
    device = two_factor.get_confirmed_device(user=user)
    second = client.post("/accounts/login/verify/", {"code": current_code(device)})
    assert second.status_code == 302, second.content
