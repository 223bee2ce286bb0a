"""Who may see which records: the one place the rules live.

Every selector and service fetches customers, contacts and activities through
`<Model>.objects.visible_to(user)`; a record outside that set does not exist for the user (404).
Contacts and activities are visible exactly when their customer is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from qianke.accounts.models import Role

if TYPE_CHECKING:
    from qianke.accounts.models import User


def customer_visibility_q(user: User, prefix: str = "") -> Q:
    """Q selecting the customers `user` may see; `prefix` reaches them from a related model."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_all_customers:
        return Q()
    owner = f"{prefix}owner"
    if user.role == Role.MANAGER and user.team_id is not None:
        team_path = user.team.path
        return (
            Q(**{owner: user})
            | Q(**{f"{prefix}team__path__startswith": team_path})
            | Q(**{f"{owner}__team__path__startswith": team_path})
        )
    return Q(**{owner: user})


class RestrictedQuerySet(models.QuerySet):
    """`visible_to(user)` applies the visibility rules; archived records are left out by default."""

    visibility_prefix = ""

    def visible_to(self, user: User, *, include_archived: bool = False) -> RestrictedQuerySet:
        qs = self.filter(customer_visibility_q(user, self.visibility_prefix))
        if not include_archived:
            qs = qs.filter(archived_at__isnull=True)
        return qs


class CustomerRelatedQuerySet(RestrictedQuerySet):
    visibility_prefix = "customer__"

    def visible_to(self, user: User, *, include_archived: bool = False) -> RestrictedQuerySet:
        qs = super().visible_to(user, include_archived=include_archived)
        if not include_archived:
            qs = qs.filter(customer__archived_at__isnull=True)
        return qs
