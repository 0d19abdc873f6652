"""Two-factor sign-in (TOTP, RFC 6238, via django-otp) and recovery codes (docs/security.md).

Reads (`has_two_factor`, `is_two_factor_required`, ...) and writes (enrol, confirm, disable,
verify) of the second factor. Every change is audited in the same transaction.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import record_audit
from accounts.models import RecoveryCode, RoleSecurityPolicy, User
from accounts.permissions import can_manage_member
from accounts.token_families import RevokedReason, revoke_token_families
from core.errors import ApplicationError, PermissionDenied

RECOVERY_CODE_COUNT = 10
# 10 characters from a 32-letter alphabet without look-alikes: 50 bits, shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
DEVICE_NAME = "Authenticator app"

# Session keys. VERIFIED holds how this session passed the second factor ("totp",
# "recovery", "enrolled"); PENDING holds a password-checked login waiting for its code.
SESSION_VERIFIED_KEY = "accounts.two_factor_method"
SESSION_PENDING_KEY = "accounts.pending_login"


class TwoFactorMethod:
    TOTP = "totp"
    RECOVERY = "recovery"
    ENROLLED = "enrolled"


# Reads ------------------------------------------------------------------------------------------


def get_confirmed_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_two_factor(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_two_factor_required(*, user: User) -> bool:
    """True when one of the user's roles requires 2FA (RoleSecurityPolicy)."""
    return RoleSecurityPolicy.objects.filter(group__user=user, require_two_factor=True).exists()


def count_unused_recovery_codes(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def is_session_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_VERIFIED_KEY))


def mark_session_verified(request: HttpRequest, *, method: str) -> None:
    request.session[SESSION_VERIFIED_KEY] = method


# Writes -----------------------------------------------------------------------------------------


def _hash_code(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_codes(*, user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT fresh ones; returns them."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_hash_code(code)) for code in codes]
    )
    return codes


@transaction.atomic
def start_two_factor_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed device to scan; the same one until confirmed (a reload shows the same QR)."""
    if has_two_factor(user=user):
        raise ApplicationError("Two-factor sign-in is already on.", code="two_factor_enabled")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice(user=user, name=DEVICE_NAME, confirmed=False)
        device.full_clean()
        device.save()
    return device


@dataclass
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]


@transaction.atomic
def confirm_two_factor(*, user: User, token: str) -> Enrolment:
    """Turn 2FA on once the app shows a valid code; returns the recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ApplicationError("Start the set-up again.", code="no_pending_enrolment")
    if not device.verify_token(token.strip().replace(" ", "")):
        raise ApplicationError(
            "That code did not match. Check the time on your phone and try the next code.",
            code="otp_invalid",
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user=user)
    record_audit(action="two_factor.enabled", actor=user, target=user)
    return Enrolment(device=device, recovery_codes=codes)


def _check_password(*, user: User, password: str) -> None:
    if not user.check_password(password):
        raise PermissionDenied("That password is not right.", code="wrong_password")


@transaction.atomic
def disable_two_factor(*, user: User, password: str) -> None:
    """Turn 2FA off (after re-entering the password): devices and recovery codes go."""
    _check_password(user=user, password=password)
    if not has_two_factor(user=user):
        raise ApplicationError("Two-factor sign-in is not on.", code="two_factor_disabled")
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    record_audit(action="two_factor.disabled", actor=user, target=user)


@transaction.atomic
def regenerate_recovery_codes(*, user: User, password: str) -> list[str]:
    _check_password(user=user, password=password)
    if not has_two_factor(user=user):
        raise ApplicationError("Two-factor sign-in is not on.", code="two_factor_disabled")
    codes = _new_recovery_codes(user=user)
    record_audit(action="two_factor.recovery_codes_regenerated", actor=user, target=user)
    return codes


@transaction.atomic
def reset_two_factor(*, actor: User, member: User) -> None:
    """A staff manager turns a member's 2FA off (lost phone); they set it up again after the
    password step (at once, if their role requires it)."""
    if not can_manage_member(actor, member):
        raise PermissionDenied("You may not change this staff member.", code="permission_denied")
    if not has_two_factor(user=member):
        raise ApplicationError("Two-factor sign-in is not on.", code="two_factor_disabled")
    TOTPDevice.objects.filter(user=member).delete()
    RecoveryCode.objects.filter(user=member).delete()
    # Whoever holds the lost phone may hold a JWT obtained with it too.
    revoke_token_families(user=member, reason=RevokedReason.TWO_FACTOR_RESET)
    record_audit(action="two_factor.reset", actor=actor, target=member)


def verify_second_factor(*, user: User, code: str) -> str | None:
    """The method that accepted `code` ("totp" or "recovery"), or None (audited as a failure).

    Not one transaction on purpose: a failed TOTP check records its throttling state and the
    failure row even though the caller then refuses the sign-in.
    """
    cleaned = code.strip().replace(" ", "")
    if cleaned.isdigit():
        device = get_confirmed_device(user=user)
        if device is not None and device.verify_token(cleaned):
            return TwoFactorMethod.TOTP
    elif cleaned and _use_recovery_code(user=user, code=cleaned):
        return TwoFactorMethod.RECOVERY
    record_audit(action="two_factor.failed", target=user, actor_repr=user.get_username())
    return None


@transaction.atomic
def _use_recovery_code(*, user: User, code: str) -> bool:
    recovery = (
        RecoveryCode.objects.select_for_update()
        .filter(user=user, code_hash=_hash_code(code), used_at__isnull=True)
        .first()
    )
    if recovery is None:
        return False
    recovery.used_at = timezone.now()
    recovery.save(update_fields=["used_at"])
    remaining = count_unused_recovery_codes(user=user)
    record_audit(
        action="two_factor.recovery_code_used",
        actor=user,
        target=user,
        details={"remaining": remaining},
    )
    return True


def check_second_factor_for_token(*, user: User, code: str) -> str:
    """JWT obtain: the second factor for a user who has (or must have) 2FA; raises 401/403."""
    if not has_two_factor(user=user):
        if is_two_factor_required(user=user):
            raise PermissionDenied(
                "Your role requires two-factor sign-in: set it up in the web app first.",
                code="two_factor_enrolment_required",
            )
        return ""
    if not code.strip():
        raise ApplicationError(
            "This account uses two-factor sign-in: send the current code as `otp`.",
            code="otp_required",
            status=401,
        )
    method = verify_second_factor(user=user, code=code)
    if method is None:
        raise ApplicationError("The two-factor code is not valid.", code="otp_invalid", status=401)
    return method
