import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    """Roles are auth Groups with these names; docs/permissions.md has the matrix."""

    ADMIN = "Admin"
    MANAGER = "Manager"
    AGENT = "Agent"
    VIEWER = "Viewer"


class Team(models.Model):
    """A group of staff that tickets can be routed to (Sales, Production, ...)."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    members = models.ManyToManyField("accounts.User", related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NotificationEmails(models.TextChoices):
    """Whether mentions, assignments and handoffs that arrive while someone is offline are
    emailed to them (comms sends them as one digest per window)."""

    OFF = "off", "Off"
    DIGEST = "digest", "When I am offline, batched"


class User(AbstractUser):
    """A staff member. Customers are `tickets.Customer`, never users."""

    display_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    max_open_tickets = models.PositiveIntegerField(
        default=25, help_text="Capacity used by automatic assignment."
    )
    notification_emails = models.CharField(
        max_length=10,
        choices=NotificationEmails.choices,
        default=NotificationEmails.DIGEST,
        help_text="Email mentions, assignments and handoffs that arrive while offline.",
    )

    class Meta:
        permissions = [
            ("manage_staff", "Can create, edit and deactivate staff"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def short_name(self) -> str:
        return self.display_name or self.first_name or self.username


class ApiToken(models.Model):
    """A personal/integration API token. Only a SHA-256 of the token is stored, never the token.

    The token looks like `pd_<prefix>_<secret>`; `prefix` finds the row, the hash proves it.
    """

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} (pd_{self.prefix}_…)"

    def is_expired(self, now) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class TokenFamily(models.Model):
    """One JWT sign-in: every refresh token rotated from one obtain belongs to it.

    Only the newest refresh token of a family (`current_jti`) is accepted; presenting an older
    one means a copy is in someone else's hands, and the whole family is revoked (OAuth 2.0
    Security BCP, refresh token rotation). Access tokens carry the family id and die with it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    current_jti = models.CharField(max_length=64)
    # Django's session auth hash of the password at sign-in: a password change, by any path,
    # ends the family (the same rule that signs browser sessions out).
    password_fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "JWT sign-in"
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"JWT sign-in {self.pk} of {self.user_id}"


class RoleSecurityPolicy(models.Model):
    """Per-role security settings; one row per role Group (seeded, edited in the admin)."""

    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, related_name="security_policy"
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Members must set up two-factor sign-in before they can use Printdesk.",
    )

    class Meta:
        ordering = ["group__name"]
        verbose_name = "role security policy"
        verbose_name_plural = "role security policies"

    def __str__(self) -> str:
        return f"{self.group.name} security policy"


class RecoveryCode(models.Model):
    """A single-use 2FA recovery code; only a SHA-256 of the code is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"Recovery code of {self.user_id}"


class UserSession(models.Model):
    """What the session list shows about one signed-in browser session (keyed by session key).

    Kept up to date by `accounts.middleware` at most once a minute; the session itself lives in
    Django's session store, and ending it deletes both.
    """

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"Session of {self.user_id} from {self.ip_address}"


class AuditLogEntry(models.Model):
    """An append-only record of a security-relevant action (docs/security.md).

    Written only by `accounts.audit.record_audit`; never updated; deleted only by the
    retention prune. The admin shows it read-only to everyone, superusers included.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A snapshot: the row still says who it was after a rename.
    actor_repr = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_repr or '-'}"

    def save(self, *args, **kwargs):
        # Append-only: an existing row is never rewritten.
        if not self._state.adding:
            raise ValueError("Audit log entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit log entries are removed only by the retention prune.")
