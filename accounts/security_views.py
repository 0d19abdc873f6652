"""Sign-in with a second factor, 2FA set-up, and the session list (docs/security.md).

Thin: parse, call a two_factor/user_sessions service, render.
"""

import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts import two_factor, user_sessions
from accounts.forms import CodeForm, PasswordForm
from accounts.middleware import get_security_state
from accounts.models import User
from core.errors import ApplicationError, NotFound

PENDING_LOGIN_SECONDS = 300
MAX_CODE_ATTEMPTS = 5


# Sign-in ----------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Step 1, the password. A user with 2FA is not signed in yet: step 2 asks for the code."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.has_two_factor(user=user):
            return super().form_valid(form)
        self.request.session[two_factor.SESSION_PENDING_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,
            "started_at": time.time(),
            "failures": 0,
            "next": self.get_redirect_url(),
        }
        return redirect("accounts:login_verify")


def _pending_login(request: HttpRequest) -> tuple[dict, User] | None:
    pending = request.session.get(two_factor.SESSION_PENDING_KEY)
    if not pending or time.time() - pending["started_at"] > PENDING_LOGIN_SECONDS:
        return None
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    return (pending, user) if user is not None else None


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the authenticator code or a recovery code."""
    found = _pending_login(request)
    if found is None:
        request.session.pop(two_factor.SESSION_PENDING_KEY, None)
        messages.info(request, "Sign in again: the sign-in timed out.")
        return redirect("accounts:login")
    pending, user = found
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        method = two_factor.verify_second_factor(user=user, code=form.cleaned_data["code"])
        if method is not None:
            return _complete_login(request, user=user, pending=pending, method=method)
        pending["failures"] += 1
        if pending["failures"] >= MAX_CODE_ATTEMPTS:
            request.session.pop(two_factor.SESSION_PENDING_KEY, None)
            messages.error(request, "Too many wrong codes. Sign in again.")
            return redirect("accounts:login")
        request.session[two_factor.SESSION_PENDING_KEY] = pending
        form.add_error("code", "That code is not valid. Wait for the next one and try again.")
    status = 400 if form.errors else 200
    return render(request, "accounts/login_verify.html", {"form": form}, status=status)


def _complete_login(request: HttpRequest, *, user: User, pending: dict, method: str):
    request.session.pop(two_factor.SESSION_PENDING_KEY, None)
    # Marked before login() so the audit row says how, and again after (a flush drops it).
    two_factor.mark_session_verified(request, method=method)
    auth_login(request, user, backend=pending["backend"])
    two_factor.mark_session_verified(request, method=method)
    if method == two_factor.TwoFactorMethod.RECOVERY:
        left = two_factor.count_unused_recovery_codes(user=user)
        messages.warning(request, f"You used a recovery code; {left} left.")
    target = pending.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = resolve_url(settings.LOGIN_REDIRECT_URL)
    return redirect(target)


class LogoutView(auth_views.LogoutView):
    """Sign-out: audited, and the session leaves the session list."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            user_sessions.record_sign_out(
                user=request.user, session_key=request.session.session_key or ""
            )
        return super().post(request, *args, **kwargs)


# Two-factor set-up ------------------------------------------------------------------------------


def _qr_svg(url: str) -> str:
    # A viewBox and no fixed size: the stylesheet scales it without cropping.
    return segno.make(url, error="m").svg_inline(scale=5, dark="#111", light="#fff", omitsize=True)


@login_required
@require_http_methods(["GET"])
def two_factor_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    state = get_security_state(request)
    context = {"enabled": two_factor.has_two_factor(user=user), "required": state["required"]}
    if context["enabled"]:
        context["codes_left"] = two_factor.count_unused_recovery_codes(user=user)
    else:
        device = two_factor.start_two_factor_enrolment(user=user)
        context.update(
            qr_svg=_qr_svg(device.config_url),
            secret=_b32(device),
            form=CodeForm(),
        )
    return render(request, "accounts/two_factor.html", context)


def _b32(device) -> str:
    return b32encode(device.bin_key).decode()


@login_required
@require_POST
def two_factor_confirm(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            enrolment = two_factor.confirm_two_factor(
                user=request.user, token=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            two_factor.mark_session_verified(request, method=two_factor.TwoFactorMethod.ENROLLED)
            get_security_state(request, refresh=True)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": enrolment.recovery_codes, "just_enabled": True},
            )
    device = two_factor.start_two_factor_enrolment(user=request.user)
    context = {
        "enabled": False,
        "required": get_security_state(request)["required"],
        "qr_svg": _qr_svg(device.config_url),
        "secret": _b32(device),
        "form": form,
    }
    return render(request, "accounts/two_factor.html", context, status=400)


def _password(request: HttpRequest) -> str | None:
    form = PasswordForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter your password.")
        return None
    return form.cleaned_data["password"]


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    password = _password(request)
    if password is not None:
        try:
            two_factor.disable_two_factor(user=request.user, password=password)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            request.session.pop(two_factor.SESSION_VERIFIED_KEY, None)
            get_security_state(request, refresh=True)
            messages.success(request, "Two-factor sign-in is off.")
    return redirect("accounts:two_factor")


@login_required
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    password = _password(request)
    if password is not None:
        try:
            codes = two_factor.regenerate_recovery_codes(user=request.user, password=password)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    return redirect("accounts:two_factor")


# Sessions ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def session_list(request: HttpRequest) -> HttpResponse:
    rows = list(user_sessions.list_user_sessions(user=request.user))
    for row in rows:
        row.device = user_sessions.describe_user_agent(row.user_agent)
        row.is_current = row.session_key == request.session.session_key
    return render(request, "accounts/sessions.html", {"sessions": rows})


@login_required
@require_POST
def session_revoke(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        row = user_sessions.get_user_session(user=request.user, session_id=session_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if row.session_key == request.session.session_key:
        messages.info(request, "That is this browser: use Sign out instead.")
        return redirect("accounts:sessions")
    user_sessions.end_session(actor=request.user, user_session=row)
    messages.success(request, f"Signed out {user_sessions.describe_user_agent(row.user_agent)}.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def session_revoke_others(request: HttpRequest) -> HttpResponse:
    count = user_sessions.end_other_sessions(
        actor=request.user, current_session_key=request.session.session_key or ""
    )
    messages.success(request, f"Signed out {count} other session{'s' if count != 1 else ''}.")
    return redirect(reverse("accounts:sessions"))
