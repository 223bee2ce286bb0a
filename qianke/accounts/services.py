"""Writes for users, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import ApiToken, Role, Team, User
from qianke.core.errors import NotFound, ValidationFailed

TOKEN_PREFIX = "qk_"


def team_create(*, name: str, parent: Team | None = None) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": [_("Enter the team's name.")]})
    if Team.objects.filter(name=name).exists():
        raise ValidationFailed({"name": [_("A team with this name already exists.")]})
    with transaction.atomic():
        team = Team.objects.create(name=name, parent=parent)
        team.path = f"{parent.path if parent else '/'}{team.pk}/"
        team.save(update_fields=["path"])
    return team


def team_get_or_create(*, name: str, parent: Team | None = None) -> Team:
    team = Team.objects.filter(name=name).first()
    return team or team_create(name=name, parent=parent)


def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    team: Team | None = None,
    full_name: str = "",
    email: str = "",
    validate: bool = True,
) -> User:
    """Create a user; `validate=False` skips the password-strength rules (demo data only)."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = [_("Enter a user name.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("A user with this name already exists.")]
    if role not in Role.values:
        errors["role"] = [_("Unknown role %(role)s; choose one of: %(roles)s.")
                          % {"role": role, "roles": ", ".join(Role.values)}]
    if password and validate:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed(errors)
    user = User(username=username, role=role, team=team, full_name=full_name, email=email,
                is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Return the token row and the token itself, which is never stored and cannot be shown again."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name or "token", key_hash=_hash(key), prefix=key[:8])
    return token, key


def api_token_authenticate(key: str) -> User | None:
    if not key or not key.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, user: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound()
