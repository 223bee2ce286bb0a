from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES = "sales", _("Sales rep")
    MANAGER = "manager", _("Sales manager")
    INFO = "info", _("Customer-information specialist")
    SERVICE = "service", _("Customer service")
    GM = "gm", _("General manager")
    ADMIN = "admin", _("Administrator")


# Roles that see every customer; everyone else sees by ownership and team.
ROLES_SEEING_ALL = frozenset({Role.INFO, Role.SERVICE, Role.GM, Role.ADMIN})
ROLES_ARCHIVING = frozenset({Role.INFO, Role.ADMIN})


class Team(models.Model):
    """A node of the team hierarchy (department → sub-department).

    `path` is the materialised path of ids ("/1/4/"), so "this team and all below it" is one
    indexed prefix match.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent team"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("team")
    )
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def sees_all_customers(self) -> bool:
        return self.role in ROLES_SEEING_ALL or self.is_superuser

    @property
    def may_archive(self) -> bool:
        return self.role in ROLES_ARCHIVING or self.is_superuser

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
