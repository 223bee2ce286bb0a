"""Reads for users and teams (for filters, owner pickers and the admin pages)."""

from __future__ import annotations

from django.db.models import QuerySet

from qianke.accounts.models import Role, Team, User


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("path")


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Teams the user may filter by: all for see-all roles, the own subtree for managers, the own team else."""
    if user.sees_all_customers:
        return team_list()
    if user.role == Role.MANAGER and user.team_id:
        return Team.objects.filter(path__startswith=user.team.path).order_by("path")
    return Team.objects.filter(pk=user.team_id) if user.team_id else Team.objects.none()


def users_visible_to(user: User) -> QuerySet[User]:
    """Users whose customers the user may see: the owner filter's options."""
    users = User.objects.filter(is_active=True).select_related("team").order_by("username")
    if user.sees_all_customers:
        return users
    if user.role == Role.MANAGER and user.team_id:
        return users.filter(team__path__startswith=user.team.path) | users.filter(pk=user.pk)
    return users.filter(pk=user.pk)
