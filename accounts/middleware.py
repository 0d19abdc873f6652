"""One light middleware for account security (docs/security.md):

- binds the request's client address and user agent for audit rows written while it runs;
- the two-factor gate: a session of a user with 2FA that did not pass the second factor is
  signed out; a user whose role requires 2FA and who has none can only reach the set-up page;
- keeps the session list (`UserSession`) current, writing at most once a minute per session.

What the gate needs (has 2FA? required?) is cached in the session and rechecked once a minute,
so a signed-in page costs no extra query in between.
"""

import time

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from accounts import two_factor
from accounts.audit import bind_request, current_request_context
from accounts.user_sessions import SESSION_TOUCH_INTERVAL, touch_user_session

STATE_KEY = "accounts.security_state"
RECHECK_SECONDS = 60
# Reachable while 2FA set-up is still owed.
ENROLMENT_OPEN_PREFIXES = (
    "/accounts/two-factor/",
    "/accounts/logout/",
    "/accounts/login/",
    "/static/",
    "/healthz",
)


def get_security_state(request: HttpRequest, *, refresh: bool = False) -> dict:
    """{"has": bool, "required": bool, "checked_at": float} for the signed-in user."""
    state = request.session.get(STATE_KEY)
    now = time.time()
    if refresh or not state or now - state.get("checked_at", 0) >= RECHECK_SECONDS:
        user = request.user
        state = {
            "has": two_factor.has_two_factor(user=user),
            "required": two_factor.is_two_factor_required(user=user),
            "checked_at": now,
        }
        request.session[STATE_KEY] = state
    return state


def is_two_factor_satisfied(request: HttpRequest) -> bool:
    state = get_security_state(request)
    if state["has"]:
        return two_factor.is_session_verified(request)
    return not state["required"]


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class AccountSecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with bind_request(request):
            refused = self._gate(request)
            if refused is not None:
                return refused
            response = self.get_response(request)
            self._touch_session(request)
            return response

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        state = get_security_state(request)
        if state["has"] and not two_factor.is_session_verified(request):
            # Signed in without the second factor (a session from before 2FA was turned on).
            logout(request)
            if _wants_json(request):
                return JsonResponse(
                    {"detail": "Sign in again with your code.", "code": "two_factor_unverified"},
                    status=401,
                )
            return redirect_to_login(request.get_full_path())
        if state["required"] and not state["has"]:
            if request.path.startswith(ENROLMENT_OPEN_PREFIXES):
                return None
            if _wants_json(request):
                return JsonResponse(
                    {
                        "detail": "Your role requires two-factor sign-in: set it up first.",
                        "code": "two_factor_required",
                    },
                    status=403,
                )
            if request.headers.get("HX-Request"):
                return HttpResponse(status=403)
            return redirect("accounts:two_factor")
        return None

    def _touch_session(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or not user.is_authenticated or session is None:
            return
        key = session.session_key
        if not key:
            return
        now = time.time()
        if now - session.get("accounts.seen_at", 0) < SESSION_TOUCH_INTERVAL.total_seconds():
            return
        session["accounts.seen_at"] = now
        context = current_request_context()
        touch_user_session(
            user=user,
            session_key=key,
            ip_address=context.ip_address if context else None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            expires_at=session.get_expiry_date(),
        )
