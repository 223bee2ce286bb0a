"""Writes of the public pool: claim, release, assign, transfer, put customers into a pool, pool settings.

Pool ownership is one state machine and `_move` is the one place that changes an owner for it: it
writes the customer, the pool entry, the owner-history row and the audit row together. The daily
returns and warnings are set-wise and live in qianke.pool.jobs.

The claim race: the owner is taken with a conditional UPDATE … WHERE owner IS NULL, so of two reps
claiming at the same moment exactly one changes a row; the other is told "already taken". The cap is
checked with the claimant's user row (and team row for a team cap) locked on PostgreSQL, so one rep's
concurrent claims are counted one after another; SQLite serialises write transactions anyway
(transaction_mode IMMEDIATE).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import Role, Team, User
from qianke.core.audit import audit_record, current_audit_source, diff, snapshot
from qianke.core.bulk import insert_rows
from qianke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.choices import Status
from qianke.customers.models import Customer
from qianke.pool.models import OwnerChange, Pool, PoolEntry, PoolRule
from qianke.qualification.models import Grade

MAX_REASON = 500


class PoolRefused(Conflict):
    """A claim, assignment or transfer the pool rules refuse; `code` says why (the API's 409 code)."""

    code = "refused"


def _refuse(code: str, message: Any) -> PoolRefused:
    return PoolRefused(message, code=code)


# ---------------------------------------------------------------------------------------------
# Membership (reads used by the services; the selectors module re-exports them)
# ---------------------------------------------------------------------------------------------


def team_ancestor_ids(team: Team | None) -> list[int]:
    """The team and every team above it, from its materialised path."""
    if team is None:
        return []
    return [int(part) for part in team.path.strip("/").split("/") if part]


def pools_of_member(user: User):
    """Pools the user claims from: those with the user's team or a team above it as a member."""
    ids = team_ancestor_ids(user.team if user.team_id else None)
    return Pool.objects.filter(active=True, teams__in=ids).distinct() if ids else Pool.objects.none()


def is_member(user: User, pool: Pool) -> bool:
    ids = team_ancestor_ids(user.team if user.team_id else None)
    return bool(ids) and pool.teams.filter(pk__in=ids).exists()


def pools_visible_to(user: User):
    """Pools a user may open: all for those who see every customer; members' pools; and for a manager
    also the pools of the teams below them (they assign from those)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Pool.objects.none()
    if user.sees_all_customers:
        return Pool.objects.all()
    if not user.team_id:
        return Pool.objects.none()
    q = Q(teams__in=team_ancestor_ids(user.team))
    if user.role == Role.MANAGER:
        q |= Q(teams__path__startswith=user.team.path)
    return Pool.objects.filter(q).distinct()


def home_pool_for_team(team: Team | None) -> Pool | None:
    """The pool a team's customers go back to: the active pool whose member team is nearest above
    (or equal to) the team; the oldest pool on a tie."""
    ids = team_ancestor_ids(team)
    if not ids:
        return None
    depth = {team_id: i for i, team_id in enumerate(ids)}
    best: tuple[int, int, Pool] | None = None
    for pool in Pool.objects.filter(active=True, teams__in=ids).prefetch_related("teams").distinct():
        nearest = max(depth[t.pk] for t in pool.teams.all() if t.pk in depth)
        key = (-nearest, pool.pk)
        if best is None or key < best[:2]:
            best = (*key, pool)
    return best[2] if best else None


def may_manage(user: User) -> bool:
    """Managers and those who see every customer assign and transfer."""
    return user.sees_all_customers or user.role == Role.MANAGER


def may_release(user: User, customer: Customer) -> bool:
    """Whether `user` may give `customer` back to the pool (the customer page's release form)."""
    return (customer.owner_id is not None and customer.status == Status.POTENTIAL and not customer.is_archived
            and (customer.owner_id == user.pk or may_manage(user)))


# ---------------------------------------------------------------------------------------------
# The one transition function of pool ownership
# ---------------------------------------------------------------------------------------------


def _owner_repr(user: User | None) -> str | None:
    return str(user) if user is not None else None


def _move(*, actor: User | None, customer: Customer, entry: PoolEntry | None, pool: Pool | None,
          to_owner: User | None, kind: str, reason: str = "", now: dt.datetime | None = None) -> OwnerChange:
    """Record an owner change already made on `customer`'s row (or make it): entry, history, audit.

    The caller holds the transaction and has already written `customer.owner` when the write had to
    be conditional (the claim race); otherwise `_move` writes it.
    """
    now = now or timezone.now()
    from_owner = customer.owner if customer.owner_id else None
    if customer.owner_id != (to_owner.pk if to_owner else None):
        customer.owner = to_owner
        customer.team = to_owner.team if to_owner is not None else None
        Customer.objects.filter(pk=customer.pk).update(owner=to_owner, team=customer.team, updated_at=now)
    return _record(actor=actor, customer=customer, entry=entry, pool=pool, from_owner=from_owner,
                   to_owner=to_owner, kind=kind, reason=reason, now=now)


def _record(*, actor, customer, entry, pool, from_owner, to_owner, kind, reason, now) -> OwnerChange:
    pool = pool or (entry.pool if entry else None)
    if pool is not None:
        entry = entry or PoolEntry(customer=customer, pool=pool)
        entry.pool = pool
        if to_owner is None:
            entry.in_pool, entry.entered_at = True, now
            entry.owner_since = entry.owner_since_on = None
            if from_owner is not None:
                entry.last_owner, entry.left_at = from_owner, now
        else:
            entry.in_pool, entry.entered_at = False, None
            entry.owner_since, entry.owner_since_on = now, timezone.localdate(now)
        entry.save()
    change = OwnerChange.objects.create(customer=customer, from_owner=from_owner, to_owner=to_owner, kind=kind,
                                        reason=reason[:MAX_REASON], actor=actor, pool=pool, at=now)
    changes: dict[str, list[Any]] = {"owner": [_owner_repr(from_owner), _owner_repr(to_owner)]}
    if pool is not None:
        changes["pool"] = [kind, pool.name]
    if reason:
        changes["reason"] = [None, reason[:MAX_REASON]]
    audit_record(actor=actor, action=AuditLog.Action.OWNER_CHANGE, instance=customer, changes=changes,
                 customer_id=customer.pk)
    return change


# ---------------------------------------------------------------------------------------------
# Claim, assign
# ---------------------------------------------------------------------------------------------


def _lock_user(user: User) -> None:
    # PostgreSQL: one rep's concurrent claims queue here, so each counts the holdings of the previous.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def held_count(*, user: User) -> int:
    return Customer.objects.filter(owner=user, status=Status.POTENTIAL, archived_at__isnull=True).count()


def team_held_count(*, team: Team) -> int:
    return Customer.objects.filter(owner__team=team, status=Status.POTENTIAL, archived_at__isnull=True).count()


def _check_cap(pool: Pool, user: User) -> None:
    if pool.cap_per_rep is not None and held_count(user=user) >= pool.cap_per_rep:
        raise _refuse("cap_reached", _("The cap of %(n)d potential customers per rep is reached.")
                      % {"n": pool.cap_per_rep})
    if pool.cap_per_team is not None and user.team_id:
        list(Team.objects.select_for_update().filter(pk=user.team_id).values_list("pk", flat=True))
        if team_held_count(team=user.team) >= pool.cap_per_team:
            raise _refuse("cap_reached", _("The cap of %(n)d potential customers per team is reached.")
                          % {"n": pool.cap_per_team})


def _pool_customer(actor: User, customer_id: int) -> tuple[Customer, PoolEntry | None]:
    """The customer with its pool entry; NotFound unless the actor may see the customer or its pool."""
    customer = (Customer.objects.select_related("owner", "team").filter(pk=customer_id, archived_at__isnull=True)
                .first())
    if customer is None:
        raise NotFound(_("Customer not found."))
    entry = PoolEntry.objects.select_related("pool").filter(customer=customer).first()
    sees_pool = entry is not None and pools_visible_to(actor).filter(pk=entry.pool_id).exists()
    if not sees_pool and not Customer.objects.visible_to(actor).filter(pk=customer_id).exists():
        raise NotFound(_("Customer not found."))
    return customer, entry


def _check_claimable(*, customer: Customer, entry: PoolEntry | None, user: User, now: dt.datetime) -> Pool:
    if customer.owner_id == user.pk:
        raise _refuse("taken", _("This customer is already yours."))
    # The customer and its entry are read by two statements: a claim committing in between shows as an
    # owner on one or an entry out of the pool on the other; both mean taken.
    if customer.owner_id is not None or (entry is not None and not entry.in_pool):
        raise _refuse("taken", _("Someone else has already taken this customer."))
    if entry is None:
        raise _refuse("not_member", _("This customer is not in a public pool."))
    pool = entry.pool
    if not pool.active or not is_member(user, pool):
        raise _refuse("not_member", _("%(user)s is not a member of the pool “%(pool)s”.")
                      % {"user": user, "pool": pool.name})
    if customer.status != Status.POTENTIAL:
        raise _refuse("not_potential", _("Only potential customers can be claimed."))
    if (entry.last_owner_id == user.pk and entry.left_at is not None
            and now < entry.left_at + dt.timedelta(days=pool.cooldown_days)):
        until = timezone.localdate(entry.left_at + dt.timedelta(days=pool.cooldown_days))
        raise _refuse("cooldown", _("A former owner cannot reclaim this customer before %(date)s.")
                      % {"date": until.isoformat()})
    return pool


def _take(customer: Customer, user: User, now: dt.datetime) -> None:
    """The conditional write: only one of two concurrent claims finds the owner still empty."""
    taken = Customer.objects.filter(pk=customer.pk, owner__isnull=True).update(
        owner=user, team=user.team, updated_at=now)
    if not taken:
        raise _refuse("taken", _("Someone else has already taken this customer."))


def pool_claim(*, actor: User, customer_id: int) -> Customer:
    """A rep claims a potential customer from a pool they belong to."""
    with transaction.atomic():
        _lock_user(actor)
        now = timezone.now()
        customer, entry = _pool_customer(actor, customer_id)
        pool = _check_claimable(customer=customer, entry=entry, user=actor, now=now)
        _check_cap(pool, actor)
        _take(customer, actor, now)
        _record(actor=actor, customer=customer, entry=entry, pool=pool, from_owner=None, to_owner=actor,
                kind=OwnerChange.Kind.CLAIM, reason="", now=now)
        customer.owner, customer.team = actor, actor.team
    return customer


def _target_user(actor: User, user_id: int) -> User:
    from qianke.customers.services import assignable_owners

    user = assignable_owners(actor).select_related("team").filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed({"to": [_("You cannot make this user the owner.")]})
    return user


def pool_assign(*, actor: User, customer_id: int, to_user_id: int, reason: str = "") -> Customer:
    """A manager (for a rep of their team) or an administrator hands a pool customer to a rep."""
    if not may_manage(actor):
        raise PermissionDenied(_("Only managers and administrators assign customers from the pool."))
    with transaction.atomic():
        target = _target_user(actor, to_user_id)
        _lock_user(target)
        now = timezone.now()
        customer, entry = _pool_customer(actor, customer_id)
        pool = _check_claimable(customer=customer, entry=entry, user=target, now=now)
        _check_cap(pool, target)
        _take(customer, target, now)
        _record(actor=actor, customer=customer, entry=entry, pool=pool, from_owner=None, to_owner=target,
                kind=OwnerChange.Kind.ASSIGN, reason=reason, now=now)
        customer.owner, customer.team = target, target.team
    return customer


# ---------------------------------------------------------------------------------------------
# Release, transfer, owner edits
# ---------------------------------------------------------------------------------------------


def _owned_for_change(actor: User, customer_id: int) -> Customer:
    customer = (Customer.objects.visible_to(actor).select_for_update(of=("self",)).select_related("owner", "team")
                .filter(pk=customer_id).first())
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationFailed({"reason": [_("Give a reason.")]})
    if len(reason) > MAX_REASON:
        raise ValidationFailed({"reason": [_("At most %(n)d characters.") % {"n": MAX_REASON}]})
    return reason


def pool_release(*, actor: User, customer_id: int, reason: str) -> Customer:
    """The owner (or their manager) gives a potential customer back to its pool, with a reason."""
    reason = _clean_reason(reason, required=True)
    with transaction.atomic():
        customer = _owned_for_change(actor, customer_id)
        if customer.owner_id is None:
            raise _refuse("not_owned", _("This customer has no owner to release it."))
        if customer.owner_id != actor.pk and not may_manage(actor):
            raise PermissionDenied(_("Only the owner or a manager releases a customer."))
        if customer.status != Status.POTENTIAL:
            raise _refuse("not_potential", _("Only potential customers go to the pool."))
        entry = PoolEntry.objects.select_related("pool").filter(customer=customer).first()
        pool = entry.pool if entry is not None else home_pool_for_team(customer.team or customer.owner.team)
        if pool is None:
            raise _refuse("no_pool", _("No public pool takes this team's customers."))
        _move(actor=actor, customer=customer, entry=entry, pool=pool, to_owner=None,
              kind=OwnerChange.Kind.RELEASE, reason=reason)
    return customer


def pool_transfer(*, actor: User, customer_id: int, to_user_id: int, reason: str = "") -> Customer:
    """A manager or administrator moves an owned customer from one rep to another."""
    if not may_manage(actor):
        raise PermissionDenied(_("Only managers and administrators transfer customers."))
    reason = _clean_reason(reason, required=False)
    with transaction.atomic():
        customer = _owned_for_change(actor, customer_id)
        if customer.owner_id is None:
            raise _refuse("not_owned", _("This customer is in the pool: assign it instead."))
        target = _target_user(actor, to_user_id)
        if target.pk == customer.owner_id:
            raise _refuse("taken", _("This customer already belongs to %(user)s.") % {"user": target})
        entry = PoolEntry.objects.select_related("pool").filter(customer=customer).first()
        _move(actor=actor, customer=customer, entry=entry, pool=None, to_owner=target,
              kind=OwnerChange.Kind.TRANSFER, reason=reason)
    return customer


def pool_owner_changed(*, actor: User, customer: Customer, from_owner: User | None, to_owner: User | None,
                       reason: str = "") -> None:
    """Called inside the caller's transaction when the owner changed outside the pool's own services (an
    edit of the owner field, a merge and its undo): keeps the owner history and the pool clock in step.
    The caller writes its own audit row."""
    now = timezone.now()
    entry = PoolEntry.objects.select_related("pool").filter(customer=customer).first()
    if entry is None and customer.status == Status.POTENTIAL:
        pool = home_pool_for_team(customer.team or (to_owner.team if to_owner else None))
        entry = PoolEntry(customer=customer, pool=pool) if pool is not None else None
    if entry is not None:
        if to_owner is None:
            entry.in_pool, entry.entered_at = True, now
            entry.owner_since = entry.owner_since_on = None
            entry.last_owner, entry.left_at = from_owner, now
        else:
            entry.in_pool, entry.entered_at = False, None
            entry.owner_since, entry.owner_since_on = now, timezone.localdate(now)
        entry.save()
    OwnerChange.objects.create(customer=customer, from_owner=from_owner, to_owner=to_owner,
                               kind=OwnerChange.Kind.EDIT, actor=actor, pool=entry.pool if entry else None, at=now,
                               reason=reason[:MAX_REASON])


def pool_owner_history_add(*, actor: User, customer: Customer, from_owner_id: int | None, reason: str) -> OwnerChange:
    """Only the history row, for an owner change whose pool entry the caller moves itself (a merge and its
    undo carry the entries over with the rest of the customer's rows). The caller writes the audit row."""
    entry = PoolEntry.objects.select_related("pool").filter(customer=customer).first()
    from_owner = User.objects.filter(pk=from_owner_id).first() if from_owner_id else None
    return OwnerChange.objects.create(customer=customer, from_owner=from_owner, to_owner=customer.owner,
                                      kind=OwnerChange.Kind.EDIT, actor=actor, pool=entry.pool if entry else None,
                                      at=timezone.now(), reason=reason[:MAX_REASON])


# ---------------------------------------------------------------------------------------------
# Putting customers into a pool (the import's `--pool NAME` and the pool page)
# ---------------------------------------------------------------------------------------------

CHUNK = 2000


def pool_add_customers(*, actor: User, pool: Pool, customer_ids) -> int:
    """Put these potential customers into `pool` (owner and team cleared); returns how many went in.

    Customers the actor may not see, real customers and archived ones are left out. Set-wise per chunk:
    bulk inserts of history and audit rows, one UPDATE of the customers, one upsert of the entries.
    """
    if not (actor.sees_all_customers or actor.role == Role.MANAGER):
        raise PermissionDenied(_("Only managers and administrators put customers into a pool."))
    ids = sorted({int(i) for i in customer_ids})
    added = 0
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            rows = list(Customer.objects.visible_to(actor).filter(pk__in=ids[start:start + CHUNK],
                                                                   status=Status.POTENTIAL)
                        .values_list("pk", "owner_id", "name"))
            if not rows:
                continue
            chunk_ids = [pk for pk, _owner, _name in rows]
            Customer.objects.filter(pk__in=chunk_ids).update(owner=None, team=None, updated_at=now)
            owned = [(pk, owner) for pk, owner, _name in rows if owner is not None]
            unowned = [(pk, owner) for pk, owner, _name in rows if owner is None]
            # An unowned customer keeps the last owner its entry knows (the cool-down still applies).
            for group, fields in ((owned, ["last_owner", "left_at"]), (unowned, [])):
                PoolEntry.objects.bulk_create(
                    [PoolEntry(customer_id=pk, pool=pool, in_pool=True, entered_at=now, last_owner_id=owner,
                               left_at=now if owner else None) for pk, owner in group],
                    update_conflicts=True, unique_fields=["customer"],
                    update_fields=["pool", "in_pool", "entered_at", "owner_since", "owner_since_on", *fields],
                )
            # Plain rows (core.bulk) instead of model instances: bulk_create's instance and per-value
            # preparation cost more than the rows (a demo puts tens of thousands into pools at once).
            insert_rows(OwnerChange, [
                {"customer_id": pk, "from_owner_id": owner, "to_owner_id": None, "kind": OwnerChange.Kind.POOL_ADD,
                 "actor_id": actor.pk, "pool_id": pool.pk, "at": now} for pk, owner, _name in rows])
            source = current_audit_source()
            # As an owner change one at a time records it (_record): from whom, into which pool.
            owners = {u.pk: _owner_repr(u) for u in User.objects.filter(pk__in={o for _pk, o in owned})}
            insert_rows(AuditLog, [
                {"actor_id": actor.pk, "action": AuditLog.Action.OWNER_CHANGE, "object_type": "customer",
                 "object_id": pk, "object_repr": name[:200], "customer_id": pk,
                 "changes": {**({"owner": [owners.get(owner), None]} if owner else {}), "pool": [None, pool.name]},
                 "source": source}
                for pk, owner, name in rows])
            added += len(rows)
    return added


# ---------------------------------------------------------------------------------------------
# Pool settings (administrators)
# ---------------------------------------------------------------------------------------------

POOL_FIELDS = ("name", "description", "cap_per_rep", "cap_per_team", "cooldown_days", "warn_days",
               "exempt_open_deals", "no_follow_up_days", "not_converted_days", "active")
RULE_FIELDS = ("no_follow_up_days", "not_converted_days")


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators configure the public pools."))


def _clean_days(errors: dict, name: str, value: Any, *, low: int, high: int, nullable: bool) -> int | None:
    if value in (None, ""):
        if not nullable:
            errors[name] = [_("This field is required.")]
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        errors[name] = [_("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}]
        return None
    return number


def _clean_pool(data: dict[str, Any], *, instance: Pool | None) -> tuple[dict, list[Team] | None, dict | None]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(POOL_FIELDS) - {"teams", "rules"}):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {}
    if "name" in data or instance is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("This field is required.")]
        elif len(name) > 100:
            errors["name"] = [_("At most %(n)d characters.") % {"n": 100}]
        elif Pool.objects.filter(name=name).exclude(pk=instance.pk if instance else None).exists():
            errors["name"] = [_("A pool with this name already exists.")]
        cleaned["name"] = name
    if "description" in data:
        cleaned["description"] = str(data["description"] or "").strip()[:300]
    limits = {"cap_per_rep": (0, 1_000_000, True), "cap_per_team": (0, 10_000_000, True),
              "cooldown_days": (0, 3650, False), "warn_days": (0, 365, False),
              "no_follow_up_days": (1, 3650, True), "not_converted_days": (1, 3650, True)}
    for name, (low, high, nullable) in limits.items():
        if name in data:
            cleaned[name] = _clean_days(errors, name, data[name], low=low, high=high, nullable=nullable)
    for name in ("exempt_open_deals", "active"):
        if name in data:
            cleaned[name] = bool(data[name])
    teams = None
    if "teams" in data:
        wanted = [t.pk if isinstance(t, Team) else t for t in (data["teams"] or [])]
        try:
            wanted_ids = {int(t) for t in wanted}
        except (TypeError, ValueError):
            wanted_ids = set()
            errors["teams"] = [_("No such team.")]
        teams = list(Team.objects.filter(pk__in=wanted_ids))
        if len(teams) != len(wanted_ids):
            errors["teams"] = [_("No such team.")]
    rules = None
    if "rules" in data:
        rules = {}
        for grade, rule in (data["rules"] or {}).items():
            if grade not in Grade.values:
                errors[f"rules.{grade}"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(Grade.values)}]
                continue
            rule = rule or {}
            rules[grade] = {name: _clean_days(errors, f"rules.{grade}.{name}", rule.get(name), low=1, high=3650,
                                              nullable=True) for name in RULE_FIELDS}
    if errors:
        raise ValidationFailed(errors)
    return cleaned, teams, rules


def _pool_snapshot(pool: Pool) -> dict[str, Any]:
    values = snapshot(pool, POOL_FIELDS)
    values["teams"] = sorted(pool.teams.values_list("name", flat=True)) if pool.pk else []
    values["rules"] = {r.grade: [r.no_follow_up_days, r.not_converted_days] for r in pool.rules.all()} \
        if pool.pk else {}
    return values


def _save_pool(*, actor: User, pool: Pool, data: dict[str, Any], action: str) -> Pool:
    cleaned, teams, rules = _clean_pool(data, instance=pool if pool.pk else None)
    before = _pool_snapshot(pool) if pool.pk else {}
    for name, value in cleaned.items():
        setattr(pool, name, value)
    pool.save()
    if teams is not None:
        pool.teams.set(teams)
    if rules is not None:
        PoolRule.objects.filter(pool=pool).exclude(grade__in=list(rules)).delete()
        for grade, values in rules.items():
            PoolRule.objects.update_or_create(pool=pool, grade=grade, defaults=values)
    audit_record(actor=actor, action=action, instance=pool, changes=diff(before, _pool_snapshot(pool)))
    return pool


def pool_create(*, actor: User, data: dict[str, Any]) -> Pool:
    """An administrator creates a pool: name, member teams, caps, cool-down, warning days, return rules
    (`rules`: {grade: {no_follow_up_days, not_converted_days}})."""
    _require_admin(actor)
    with transaction.atomic():
        return _save_pool(actor=actor, pool=Pool(), data=data, action=AuditLog.Action.CREATE)


def pool_update(*, actor: User, pool_id: int, data: dict[str, Any]) -> Pool:
    _require_admin(actor)
    with transaction.atomic():
        pool = Pool.objects.select_for_update().filter(pk=pool_id).first()
        if pool is None:
            raise NotFound(_("Pool not found."))
        return _save_pool(actor=actor, pool=pool, data=data, action=AuditLog.Action.UPDATE)
