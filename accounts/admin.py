from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from accounts.models import ApiToken, AuditLogEntry, RoleSecurityPolicy, Team, User
from accounts.permissions import Action, can
from accounts.services import create_api_token, revoke_api_token
from accounts.token_families import RevokedReason, revoke_token_families
from accounts.user_sessions import end_all_sessions


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Printdesk", {"fields": ("display_name", "phone", "max_open_tickets")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Deactivated here too: signed out everywhere, sockets closed (docs/security.md).
            end_all_sessions(user=obj, actor=request.user)

    def save_related(self, request, form, formsets, change):
        # The groups are saved here, after save_model: what the member held until now.
        before = set(form.instance.groups.values_list("pk", flat=True))
        super().save_related(request, form, formsets, change)
        after = set(form.instance.groups.values_list("pk", flat=True))
        if before - after:
            # A role removed here is a demotion too: the member's API sign-ins end.
            revoke_token_families(user=form.instance, reason=RevokedReason.ROLE_REMOVED)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name", "owner", "expires_at")

    def clean(self):
        cleaned = super().clean()
        owner, expires_at = cleaned.get("owner"), cleaned.get("expires_at")
        if owner is not None and not can(owner, Action.USE_API_TOKENS):
            self.add_error("owner", "This user may not hold API tokens (inactive or no role).")
        if expires_at is not None and expires_at <= timezone.now():
            self.add_error("expires_at", "The expiry must be in the future.")
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created through the service (the raw token is shown once), never edited."""

    list_display = (
        "name",
        "owner",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    list_select_related = ("owner",)
    search_fields = ("name", "prefix", "owner__username")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
            kwargs["fields"] = ApiTokenAddForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("name", "owner", "expires_at", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, raw = create_api_token(
            actor=request.user, owner=obj.owner, name=obj.name, expires_at=obj.expires_at
        )
        obj.pk = token.pk
        messages.warning(request, f"Copy the token now, it is shown only once: {raw}")

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.select_related("owner"):
            revoke_api_token(actor=request.user, token=token)


@admin.register(RoleSecurityPolicy)
class RoleSecurityPolicyAdmin(admin.ModelAdmin):
    """Which roles must use two-factor sign-in (one row per role, seeded; changes audited)."""

    list_display = ("group", "require_two_factor")
    list_editable = ("require_two_factor",)
    readonly_fields = ("group",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    """Searchable and read-only for everyone, superusers included: the log is append-only."""

    list_display = (
        "created_at",
        "action",
        "actor_repr",
        "target_type",
        "target_repr",
        "ip_address",
    )
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("action", "actor_repr", "target_repr", "target_id", "ip_address")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
