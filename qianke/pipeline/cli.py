"""`qianke deal …` subcommands. Imported before Django is set up: import models lazily."""

from __future__ import annotations

import argparse
import datetime as dt

from qianke.core.cli_text import gettext as _


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _money(value) -> str:
    return f"{value:,.0f}"


def cmd_move(args) -> int:
    from qianke.cli import UsageError, active_user
    from qianke.core.errors import Conflict, NotFound, ValidationFailed
    from qianke.pipeline.models import Deal, DealReason, Stage
    from qianke.pipeline.services import deal_move

    actor = active_user(args.by)
    deal = Deal.objects.visible_to(actor).select_related("process").filter(pk=args.id).first()
    if deal is None:
        raise UsageError(_("ID: there is no deal %(id)s that %(user)s may see.") % {"id": args.id,
                                                                                     "user": actor.username})
    stages = Stage.objects.filter(process_id=deal.process_id)
    target = stages.filter(pk=int(args.stage)).first() if args.stage.isdigit() else stages.filter(
        name=args.stage.strip()).first()
    if target is None:
        names = ", ".join(stages.order_by("order").values_list("name", flat=True))
        raise UsageError(_("STAGE: “%(stage)s” is not a stage of %(process)s (%(names)s).")
                         % {"stage": args.stage, "process": deal.process.name, "names": names})
    reason_id = None
    if args.reason:
        reason = DealReason.objects.filter(name=args.reason, semantic=target.semantic, active=True).first()
        if reason is None:
            raise UsageError(_("--reason: “%(reason)s” is not a reason for this outcome.") % {"reason": args.reason})
        reason_id = reason.pk
    try:
        deal = deal_move(actor=actor, deal_id=deal.pk, stage_id=target.pk, override_reason=args.override or "",
                         reason_id=reason_id, reason_note=args.note or "")
    except Conflict as exc:
        lines = [str(exc.message)]
        for item in exc.extra.get("unmet", []):
            lines.append(f"  - {item['stage_name']}: {item['text']}")
        if exc.extra.get("unmet") and exc.extra.get("may_override"):
            lines.append("  " + _("(move anyway with --override REASON)"))
        raise UsageError("\n".join(lines)) from None
    except ValidationFailed as exc:
        raise UsageError("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.fields.items())) from None
    except NotFound as exc:
        raise UsageError(str(exc.message)) from None
    print(_("Deal %(id)s %(name)s: now in %(stage)s.") % {"id": deal.pk, "name": deal.name, "stage": target.name})
    if deal.last_change.override_reason:
        print(_("Moved past the gate: %(reason)s") % {"reason": deal.last_change.override_reason})
    return 0


def cmd_report(args) -> int:
    from qianke.cli import UsageError, active_user
    from qianke.pipeline import reports
    from qianke.pipeline.models import Process

    user = active_user(args.by)
    if args.report == "forecast":
        f = reports.forecast(user=user, start=args.start, months=args.months)
        months = [m.strftime("%Y-%m") for m in f.months]
        print(_("weighted forecast (¥) by expected close month") + "\t" + "\t".join(months) + "\t" + _("total"))
        for row in f.by_owner:
            print("\t".join([f"{row.label} ({row.team or '—'})", *[_money(c.weighted) for c in row.cells],
                             _money(row.total.weighted)]))
        print("\t".join([_("total"), *[_money(c.weighted) for c in f.totals], _money(f.total.weighted)]))
        print("\t".join([_("open amount"), *[_money(c.amount) for c in f.totals], _money(f.total.amount)]))
        print("\t".join([_("won"), *[_money(w) for w in f.won], _money(sum(f.won))]))
        return 0
    if args.report == "funnel":
        process = (Process.objects.filter(pk=int(args.process)).first() if args.process and args.process.isdigit()
                   else Process.objects.filter(name=args.process).first() if args.process
                   else Process.objects.filter(active=True).first())
        if process is None:
            raise UsageError(_("--process: there is no sales process “%(name)s”.") % {"name": args.process})
        f = reports.funnel(user=user, process=process, date_from=args.date_from, date_to=args.date_to)
        print(_("%(process)s: %(count)s deals opened %(start)s – %(end)s")
              % {"process": process.name, "count": f.cohort, "start": f.date_from, "end": f.date_to})
        print("\t".join([_("stage"), _("reached"), _("to next"), _("avg days in stage")]))
        for s in f.steps:
            conversion = f"{s.conversion:.0%}" if s.conversion is not None else "—"
            days = f"{s.avg_days_in_stage}" if s.avg_days_in_stage is not None else "—"
            print(f"{s.stage.name}\t{s.reached}\t{conversion}\t{days}")
        rate = f"{f.win_rate:.0%}" if f.win_rate is not None else "—"
        print(_("win rate %(rate)s (%(won)s won, %(lost)s lost); average cycle %(days)s days")
              % {"rate": rate, "won": f.won, "lost": f.lost,
                 "days": f.avg_cycle_days if f.avg_cycle_days is not None else "—"})
        return 0
    page = reports.stalled(user=user, limit=args.limit)
    print(_("%(count)s stalled deals") % {"count": f"{page.count}{'+' if page.count_capped else ''}"})
    for row in page.items:
        why = []
        if row.days_over:
            why.append(_("%(days)s days over the normal duration") % {"days": row.days_over})
        if row.next_step_overdue_days:
            why.append(_("next step %(days)s days overdue") % {"days": row.next_step_overdue_days})
        print(f"{row.deal.pk}\t{row.deal.name}\t{row.deal.customer.name}\t{row.deal.stage.name}\t"
              + _("%(days)s days") % {"days": row.days_in_stage} + f"\t{'; '.join(why)}\t{row.deal.owner or '—'}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the `qianke` parser (called by qianke.cli.build_parser)."""
    from qianke.cli import ADMIN_USERNAME

    deal = sub.add_parser("deal", help="deals: move through the stages, reports").add_subparsers(
        dest="deal_command", required=True, metavar="ACTION")
    p = deal.add_parser("move", help="move a deal to another stage (the key-node gate applies)")
    p.add_argument("id", type=int, metavar="ID", help="the deal's number")
    p.add_argument("stage", metavar="STAGE", help="the stage's name (e.g. 立项) or id")
    p.add_argument("--override", metavar="REASON", help="managers: move past an unmet key node (recorded)")
    p.add_argument("--reason", metavar="NAME", help="won/lost reason from the list (required for a lost stage)")
    p.add_argument("--note", metavar="TEXT", help="details of the won/lost reason")
    p.add_argument("--by", required=True, metavar="USER")
    p.set_defaults(func=cmd_move)

    p = deal.add_parser("report", help="forecast, funnel or stalled deals, as tab-separated text")
    p.add_argument("report", choices=("forecast", "funnel", "stalled"), metavar="REPORT",
                   help="forecast, funnel or stalled")
    p.add_argument("--by", default=ADMIN_USERNAME, metavar="USER", help="whose view (visibility applies)")
    p.add_argument("--start", type=_date, default=None, metavar="DATE", help="forecast: first month")
    p.add_argument("--months", type=int, default=6, metavar="N", help="forecast: number of months (default 6)")
    p.add_argument("--process", metavar="NAME", help="funnel: the process's name or id")
    p.add_argument("--from", dest="date_from", type=_date, default=None, metavar="DATE")
    p.add_argument("--to", dest="date_to", type=_date, default=None, metavar="DATE")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="stalled: at most N rows (default 50)")
    p.set_defaults(func=cmd_report)
