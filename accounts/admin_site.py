"""Printdesk's Django admin site (installed as `admin.site` by PrintdeskAdminConfig).

- Sign-in goes through /accounts/login/ (password, then the second factor), never the admin's
  own password-only form; a session that still owes 2FA has no admin access.
- Every ModelAdmin registered on it writes an audit row for each add, change and delete (on top
  of Django's own LogEntry), so the project's admins are audited without editing each of them.
"""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.audit import record_audit


class AuditedAdminMixin:
    """Audit rows (`admin.added`, `admin.changed`, `admin.deleted`) next to Django's LogEntry."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        _audit_admin_change(request, "admin.added", obj, entry)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        _audit_admin_change(request, "admin.changed", obj, entry)
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, queryset)
        for obj in objects:
            record_audit(
                action="admin.deleted",
                actor=request.user,
                target=obj,
                details={"model": obj._meta.label_lower},
            )
        return entries


def _audit_admin_change(request: HttpRequest, action: str, obj, entry) -> None:
    message = entry.get_change_message() if hasattr(entry, "get_change_message") else ""
    record_audit(
        action=action,
        actor=request.user,
        target=obj,
        details={"model": obj._meta.label_lower, "message": message},
    )


class PrintdeskAdminSite(admin.AdminSite):
    site_header = "Printdesk administration"
    site_title = "Printdesk admin"

    def has_permission(self, request: HttpRequest) -> bool:
        from accounts.middleware import is_two_factor_satisfied

        return super().has_permission(request) and is_two_factor_satisfied(request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.user.is_authenticated:
            # Signed in but not allowed here (no admin access, or 2FA owed): no second form.
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else None
        return super().register(models or model_or_iterable, admin_class, **options)
