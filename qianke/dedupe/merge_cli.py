"""`qianke merge SURVIVOR_CODE MERGED_CODE… --by USER` and `qianke merge undo ID --by USER`.

Imported before Django is set up (through qianke.dedupe.cli): models are imported inside the commands.
"""

from __future__ import annotations

import argparse

from qianke.core.cli_text import gettext as _

ADMIN_USERNAME = "admin"


def add_merge_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "merge", help="merge duplicate customers into one, or undo a merge",
        description="Merge customers: qianke merge SURVIVOR_CODE MERGED_CODE… [--field FIELD=CODE …]. "
                    "Undo: qianke merge undo MERGE_ID.",
    )
    p.add_argument("codes", nargs="+", metavar="CODE",
                   help="the customer that stays, then the customers merged into it (or: undo MERGE_ID)")
    p.add_argument("--field", action="append", default=[], metavar="FIELD=CODE",
                   help="take FIELD's value from the customer CODE (repeatable), e.g. --field name=KH202611000002")
    p.add_argument("--by", default=ADMIN_USERNAME, metavar="USER",
                   help=f"the user making the change (default: {ADMIN_USERNAME})")
    p.set_defaults(func=cmd_merge)


def _actor(username: str):
    from qianke.cli import active_user

    return active_user(username, "--by")


def cmd_merge(args: argparse.Namespace) -> int:
    from qianke.cli import UsageError

    if args.codes[0].lower() == "undo":
        if len(args.codes) != 2 or args.field:
            raise UsageError(_("usage: qianke merge undo MERGE_ID [--by USER]"))
        return _undo(args.codes[1], _actor(args.by))
    if len(args.codes) < 2:
        raise UsageError(_("CODE: name the customer that stays and at least one customer to merge into it."))
    return _merge(args, _actor(args.by))


def _merge(args: argparse.Namespace, actor) -> int:
    from qianke.cli import UsageError
    from qianke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
    from qianke.customers.models import Customer
    from qianke.dedupe.services import customer_merge

    codes = [c.strip().upper() for c in args.codes]
    found = dict(Customer.objects.visible_to(actor).filter(code__in=codes).values_list("code", "pk"))
    for code in codes:
        if code not in found:
            raise UsageError(_("CODE: there is no customer “%(code)s” that %(user)s may see.")
                             % {"code": code, "user": actor.username})
    choices = {}
    for item in args.field:
        field, sep, code = item.partition("=")
        code = code.strip().upper()
        if not sep or code not in found:
            raise UsageError(_("--field: expected FIELD=CODE with one of the codes given, got “%(item)s”.")
                             % {"item": item})
        choices[field.strip()] = found[code]
    try:
        merge = customer_merge(actor=actor, survivor_id=found[codes[0]], merged_ids=[found[c] for c in codes[1:]],
                               field_choices=choices)
    except ValidationFailed as exc:
        details = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.fields.items())
        raise UsageError(details or str(exc.message)) from None
    except (Conflict, NotFound, PermissionDenied) as exc:
        raise UsageError(str(exc.message)) from None
    moved = sum(len(m["pks"]) for m in merge.snapshot["moved"])
    print(_("Merged %(merged)s into %(code)s %(name)s: %(moved)s related rows moved, %(kept)s left with the "
            "archived records.") % {"merged": ", ".join(codes[1:]), "code": codes[0], "name": merge.survivor.name,
                                    "moved": moved, "kept": len(merge.snapshot["kept"])})
    print(_("Merge %(id)s. Undo with: qianke merge undo %(id)s") % {"id": merge.pk})
    return 0


def _undo(merge_id: str, actor) -> int:
    from qianke.cli import UsageError
    from qianke.core.errors import Conflict, NotFound
    from qianke.dedupe.services import merge_undo

    try:
        number = int(merge_id)
    except ValueError:
        raise UsageError(_("MERGE_ID: expected a number, got “%(value)s”.") % {"value": merge_id}) from None
    try:
        merge = merge_undo(actor=actor, merge_id=number)
    except (Conflict, NotFound) as exc:
        raise UsageError(str(exc.message)) from None
    print(_("Merge %(id)s undone: %(code)s %(name)s and %(count)s merged customers are as before.")
          % {"id": merge.pk, "code": merge.survivor.code, "name": merge.survivor.name,
             "count": len(merge.snapshot["merged"])})
    return 0
