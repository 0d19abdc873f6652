from django.contrib.auth.models import AbstractUser
from django.db import models


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


class User(AbstractUser):
    """A staff member. Customers are `tickets.Customer`, never users."""

    display_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    max_open_tickets = models.PositiveIntegerField(
        default=25, help_text="Capacity used by automatic assignment."
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
