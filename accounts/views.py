"""Staff management (/staff/) and personal API tokens (/accounts/tokens/). Thin: parse, check,
call a service, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services, two_factor
from accounts.forms import ApiTokenForm, NotificationSettingsForm, StaffForm
from accounts.permissions import (
    Action,
    can,
    can_manage_member,
    grantable_roles,
    has_admin_role,
    is_admin,
)
from core.errors import ApplicationError, NotFound


def _require(request: HttpRequest, action: Action) -> None:
    if not can(request.user, action):
        raise DjangoPermissionDenied


def _managed_member(request: HttpRequest, user_id: int):
    _require(request, Action.MANAGE_STAFF)
    try:
        member = selectors.get_staff_member(user_id=user_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if not can_manage_member(request.user, member):
        raise DjangoPermissionDenied
    return member


def _add_error(form, exc: ApplicationError) -> None:
    form.add_error(None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own notification settings: emails while offline (here) and
    desktop notifications (a permission the browser keeps; static/js/desktop_notifications.js)."""
    form = NotificationSettingsForm(
        request.POST or None, initial={"notification_emails": request.user.notification_emails}
    )
    if request.method == "POST" and form.is_valid():
        services.set_notification_emails(
            user=request.user, notification_emails=form.cleaned_data["notification_emails"]
        )
        messages.success(request, "Notification settings saved.")
        return redirect("accounts:notification_settings")
    return render(
        request,
        "accounts/notifications.html",
        {"form": form, "digest_minutes": settings.NOTIFICATION_DIGEST_MINUTES},
    )


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    _require(request, Action.MANAGE_STAFF)
    staff = list(selectors.list_staff())
    actor_is_admin = is_admin(request.user)  # once, not once per row
    locked = selectors.list_locked_out_usernames()
    for member in staff:
        member.is_manageable = actor_is_admin or not has_admin_role(member)
        member.is_locked_out = member.username in locked
    return render(request, "staff/list.html", {"staff": staff})


@login_required
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    _require(request, Action.MANAGE_STAFF)
    form = StaffForm(request.POST or None, role_choices=grantable_roles(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            member = services.create_staff_member(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, f"Invited {member}. A set-password email is on its way.")
            return redirect("accounts:staff_list")
    return render(request, "staff/form.html", {"form": form, "member": None})


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _managed_member(request, user_id)
    initial = {
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "display_name": member.display_name,
        "roles": selectors.get_role_names(user=member),
    }
    form = StaffForm(
        request.POST or None,
        initial=initial,
        role_choices=grantable_roles(request.user),
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_staff_member(actor=request.user, member=member, **form.cleaned_data)
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, f"Saved {member}.")
            return redirect("accounts:staff_list")
    return render(request, "staff/form.html", {"form": form, "member": member})


def _after_row_action(request: HttpRequest, member_id: int, message: str) -> HttpResponse:
    """htmx swaps the one row; a plain form post goes back to the list."""
    if request.headers.get("HX-Request"):
        member = selectors.list_staff().get(pk=member_id)
        member.is_manageable = can_manage_member(request.user, member)
        member.is_locked_out = member.username in selectors.list_locked_out_usernames()
        return render(request, "staff/_row.html", {"member": member, "notice": message})
    messages.success(request, message)
    return redirect("accounts:staff_list")


@login_required
@require_POST
def staff_set_active(request: HttpRequest, user_id: int, is_active: bool) -> HttpResponse:
    member = _managed_member(request, user_id)
    try:
        services.set_staff_active(actor=request.user, member=member, is_active=is_active)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:staff_list")
    verb = "Reactivated" if is_active else "Deactivated"
    return _after_row_action(request, member.pk, f"{verb} {member}.")


@login_required
@require_POST
def staff_reset_password(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _managed_member(request, user_id)
    try:
        services.reset_staff_password(actor=request.user, member=member)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:staff_list")
    return _after_row_action(request, member.pk, f"Password reset link emailed to {member}.")


@login_required
@require_POST
def staff_reset_two_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _managed_member(request, user_id)
    try:
        two_factor.reset_two_factor(actor=request.user, member=member)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:staff_list")
    return _after_row_action(request, member.pk, f"Two-factor sign-in reset for {member}.")


@login_required
@require_POST
def staff_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _managed_member(request, user_id)
    services.unlock_staff_login(actor=request.user, member=member)
    return _after_row_action(request, member.pk, f"Sign-in unlocked for {member}.")


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    _require(request, Action.USE_API_TOKENS)
    form = ApiTokenForm(request.POST or None)
    raw_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, raw_token = services.create_api_token(
                actor=request.user, owner=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            form = ApiTokenForm()
    tokens = selectors.list_api_tokens(owner=request.user)
    context = {"form": form, "tokens": tokens, "raw_token": raw_token}
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    _require(request, Action.USE_API_TOKENS)
    try:
        token = selectors.get_api_token(owner=request.user, token_id=token_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    services.revoke_api_token(actor=request.user, token=token)
    messages.success(request, f"Revoked {token.name}.")
    return redirect("accounts:token_list")
