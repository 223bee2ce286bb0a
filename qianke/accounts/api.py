"""The signed-in user, teams and users (for owner pickers and filters)."""

from __future__ import annotations

from ninja import Query, Router, Schema

from qianke.accounts.selectors import teams_visible_to, users_visible_to
from qianke.core.api import PageOut, PageParams, TeamRef, page_out, paginate, responses

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    name: str
    full_name: str
    email: str
    role: str
    team: TeamRef | None
    sees_all_customers: bool
    may_archive: bool
    is_admin: bool

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class TeamOut(Schema):
    id: int
    name: str
    parent: int | None
    path: str
    depth: int

    @staticmethod
    def resolve_parent(obj) -> int | None:
        return obj.parent_id


class UserOut(Schema):
    id: int
    username: str
    name: str
    role: str
    team: TeamRef | None

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


@router.get("/me", response=responses(MeOut), summary="The signed-in user")
def me(request):
    return request.auth


@router.get("/teams", response=responses(PageOut[TeamOut]), summary="Teams the user may filter by")
def team_list(request, page: Query[PageParams]):
    return page_out(paginate(teams_visible_to(request.auth), page))


@router.get("/users", response=responses(PageOut[UserOut]),
            summary="Users whose customers the user may see")
def user_list(request, page: Query[PageParams]):
    return page_out(paginate(users_visible_to(request.auth), page))
