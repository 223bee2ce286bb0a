"""`qianke pool …` subcommands. Imported before Django is set up: import models lazily."""

from __future__ import annotations

import argparse

from qianke.core.cli_text import gettext as _


def _owned(customer, user) -> str:
    return _("%(code)s %(name)s: now owned by %(user)s.") % {"code": customer.code, "name": customer.name,
                                                           "user": user.username}


def _usage(message: str):
    from qianke.cli import UsageError

    return UsageError(message)


def _user(name: str, option: str):
    from qianke.cli import active_user

    return active_user(name, option)


def _customer_id(code: str) -> int:
    from qianke.customers.models import Customer

    customer = Customer.objects.filter(code=code.strip().upper(), archived_at__isnull=True).first()
    if customer is None:
        raise _usage(_("CODE: there is no customer “%(code)s”.") % {"code": code})
    return customer.pk


def _run(func, **kwargs):
    from qianke.core.errors import NotFound, PermissionDenied, QiankeError, ValidationFailed

    try:
        return func(**kwargs)
    except ValidationFailed as exc:
        raise _usage("; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.fields.items())
                     or str(exc.message)) from None
    except NotFound:
        raise _usage("CODE: no such customer in a pool you may see") from None
    except (PermissionDenied, QiankeError) as exc:
        code = getattr(exc, "code", "")
        raise _usage(f"{exc.message} ({code})" if code else str(exc.message)) from None


def cmd_list(args) -> int:
    from django.db.models import Count, Q

    from qianke.pool.models import Pool

    pools = (Pool.objects.prefetch_related("teams")
             .annotate(waiting=Count("entries", filter=Q(entries__in_pool=True))).order_by("name"))
    if not pools:
        print(_("No pool yet (create one: qianke pool add NAME --team TEAM)."))
        return 0
    for pool in pools:
        teams = ", ".join(t.name for t in pool.teams.all()) or "-"
        cap = pool.cap_per_rep if pool.cap_per_rep is not None else "-"
        print(_("%(id)s\t%(name)s\tteams: %(teams)s\tin pool: %(waiting)s\tcap per rep: %(cap)s\t"
                "cool-down: %(cooldown)s d\treturn: %(no_follow_up)s d without follow-up, %(not_converted)s d not "
                "converted") % {"id": pool.pk, "name": pool.name, "teams": teams, "waiting": pool.waiting, "cap": cap,
                                "cooldown": pool.cooldown_days, "no_follow_up": pool.no_follow_up_days or "-",
                                "not_converted": pool.not_converted_days or "-"}
              + ("" if pool.active else "\t" + _("(inactive)")))
    return 0


def cmd_add(args) -> int:
    from qianke.accounts.models import Team
    from qianke.pool.services import pool_create

    actor = _user(args.by, "--by")
    teams = []
    for name in args.team or []:
        team = Team.objects.filter(name=name).first()
        if team is None:
            raise _usage(_("--team: there is no team “%(name)s”.") % {"name": name})
        teams.append(team.pk)
    data = {"name": args.name, "teams": teams, "cooldown_days": args.cooldown_days, "warn_days": args.warn_days,
            "cap_per_rep": args.cap_per_rep, "cap_per_team": args.cap_per_team,
            "no_follow_up_days": args.no_follow_up_days, "not_converted_days": args.not_converted_days}
    pool = _run(pool_create, actor=actor, data=data)
    print(_("Pool %(id)s “%(name)s” created.") % {"id": pool.pk, "name": pool.name})
    return 0


def cmd_claim(args) -> int:
    from qianke.pool.services import pool_claim

    actor = _user(args.by, "--by")
    customer = _run(pool_claim, actor=actor, customer_id=_customer_id(args.code))
    print(_owned(customer, actor))
    return 0


def cmd_release(args) -> int:
    from qianke.pool.services import pool_release

    actor = _user(args.by, "--by")
    customer = _run(pool_release, actor=actor, customer_id=_customer_id(args.code), reason=args.reason)
    print(_("%(code)s %(name)s: back in the public pool.") % {"code": customer.code, "name": customer.name})
    return 0


def cmd_assign(args) -> int:
    from qianke.pool.services import pool_assign

    actor = _user(args.by, "--by")
    target = _user(args.to, "--to")
    customer = _run(pool_assign, actor=actor, customer_id=_customer_id(args.code), to_user_id=target.pk,
                    reason=args.reason)
    print(_owned(customer, target))
    return 0


def cmd_transfer(args) -> int:
    from qianke.pool.services import pool_transfer

    actor = _user(args.by, "--by")
    target = _user(args.to, "--to")
    customer = _run(pool_transfer, actor=actor, customer_id=_customer_id(args.code), to_user_id=target.pk,
                    reason=args.reason)
    print(_owned(customer, target))
    return 0


def _count(text: str) -> int | None:
    if text.strip().lower() in ("", "none", "-"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the `qianke` parser (called by qianke.cli.build_parser)."""
    from qianke.cli import ADMIN_USERNAME

    pool = sub.add_parser("pool", help="public pools: list, create, claim, release, assign").add_subparsers(
        dest="pool_command", required=True, metavar="ACTION")
    p = pool.add_parser("list", help="list the pools with their rules and how many customers wait in each")
    p.set_defaults(func=cmd_list)

    p = pool.add_parser("add", aliases=["create"], help="create a pool (administrators)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--team", action="append", metavar="TEAM", help="a member team (repeat for several)")
    p.add_argument("--cap-per-rep", type=_count, default=50, metavar="N", help="default 50; 'none' for no cap")
    p.add_argument("--cap-per-team", type=_count, default=None, metavar="N")
    p.add_argument("--cooldown-days", type=_count, default=30, metavar="N")
    p.add_argument("--warn-days", type=_count, default=3, metavar="N")
    p.add_argument("--no-follow-up-days", type=_count, default=30, metavar="N")
    p.add_argument("--not-converted-days", type=_count, default=180, metavar="N")
    p.add_argument("--by", default=ADMIN_USERNAME, metavar="USER")
    p.set_defaults(func=cmd_add)

    p = pool.add_parser("claim", help="claim a customer from the pool for a rep")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--by", required=True, metavar="USER")
    p.set_defaults(func=cmd_claim)

    p = pool.add_parser("release", help="give a customer back to its pool")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--by", required=True, metavar="USER")
    p.add_argument("--reason", required=True, metavar="R")
    p.set_defaults(func=cmd_release)

    p = pool.add_parser("assign", help="assign a pool customer to a rep (managers, administrators)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--to", required=True, metavar="USER")
    p.add_argument("--by", default=ADMIN_USERNAME, metavar="USER")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_assign)

    p = pool.add_parser("transfer", help="move a customer from one rep to another (managers, administrators)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--to", required=True, metavar="USER")
    p.add_argument("--by", default=ADMIN_USERNAME, metavar="USER")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_transfer)
