"""`qianke import` and `qianke export`. Imported before Django is set up: import models lazily."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qianke.core.cli_text import gettext as _


def _list_headings() -> tuple[str, ...]:
    """`qianke import list`'s column headings, in their own context: these short words mean other things elsewhere."""
    from django.utils.translation import pgettext

    return (pgettext("import list column", "id"), pgettext("import list column", "when"),
            pgettext("import list column", "by"), pgettext("import list column", "file"),
            pgettext("import list column", "mode"), pgettext("import list column", "status"),
            pgettext("import list column", "read"), pgettext("import list column", "customers"),
            pgettext("import list column", "rejected"))


IMPORT_EPILOG = """\
forms:
  qianke import FILE [options]   import a CSV (UTF-8 or GBK) or XLSX file of customers, contacts, follow-ups
  qianke import list             the recent imports
  qianke import undo ID          remove what import ID created (while nobody has changed it)

Columns are recognised by their Chinese or English headers (客户名称/name, 手机/mobile, 联系人/contact …);
--map field=column overrides or adds one (field names: see the mapping page, e.g. name, mobile,
contact.name, activity.content, custom.<key>; --map field= unmaps it).
Re-running the command on the same file after it was interrupted continues after the last committed
batch (partial mode) or starts again (atomic mode): no row is imported twice.
Every row is checked against the existing customers and the other rows of the file: --duplicates flag
(default) imports it and lists the match for review (Duplicates page, filtered to the import);
--duplicates skip leaves out rows that are the same customer, with the reason in the rejected rows.

exit status: 0 every row imported (or, for --dry-run, every row valid); 1 some rows were rejected or
skipped as duplicates (partial mode: the others were imported; atomic mode: nothing was imported
unless only duplicates were skipped); 2 bad arguments or an unreadable file.
"""


def _parse(args) -> tuple[str, list[str]]:
    words = list(args.target)
    if words[0] == "list" and len(words) == 1:
        return "list", []
    if words[0] == "undo":
        return "undo", words[1:]
    if len(words) != 1:
        from qianke.cli import UsageError

        raise UsageError(_("expected FILE, “list” or “undo ID”"))
    return "file", words


def _actor(username: str, option: str = "--as"):
    from qianke.cli import active_user

    return active_user(username, option)


def _usage_from(exc) -> Exception:
    from qianke.cli import UsageError

    names = {"map": "--map", "owner": "--owner", "pool": "--pool", "sheet": "--sheet", "mode": "--mode",
             "duplicates": "--duplicates", "file": "FILE"}
    lines = [f"{names.get(field, '--map ' + field)}: {' '.join(str(m) for m in messages)}"
             for field, messages in exc.fields.items()]
    return UsageError("; ".join(lines) or str(exc.message))


def cmd_import(args) -> int:
    action, rest = _parse(args)
    if action == "list":
        return _import_list(args)
    if action == "undo":
        return _import_undo(args, rest)
    return _import_file(args, Path(rest[0]))


def _import_list(args) -> int:
    from django.utils import timezone

    from qianke.cli import _width
    from qianke.dataio.selectors import import_list

    actor = _actor(args.as_user)
    rows = [_list_headings()]
    for job in import_list(user=actor, limit=50).items:
        rows.append((str(job.pk), f"{timezone.localtime(job.created_at):%Y-%m-%d %H:%M}",
                     job.actor.username if job.actor else "", job.file_name, _mode_word(job.mode),
                     str(job.get_status_display()),
                     str(job.read_rows), str(job.created_customers), str(job.rejected_rows)))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _import_undo(args, rest: list[str]) -> int:
    from qianke.cli import UsageError
    from qianke.core.errors import Conflict, NotFound
    from qianke.dataio.services import import_undo

    if len(rest) != 1 or not rest[0].isdigit():
        raise UsageError(_("undo: expected the import’s ID (see: qianke import list)"))
    actor = _actor(args.as_user)
    try:
        job = import_undo(actor=actor, job_id=int(rest[0]))
    except (Conflict, NotFound) as exc:
        print(f"qianke import undo: {exc.message}", file=sys.stderr)
        return 1
    print(_("Import #%(id)s (%(file)s) undone: %(customers)s customers, %(contacts)s contacts and "
            "%(activities)s follow-ups removed.")
          % {"id": job.pk, "file": job.file_name, "customers": f"{job.created_customers:,}",
             "contacts": f"{job.created_contacts:,}", "activities": f"{job.created_activities:,}"})
    return 0


def _write_rejects(path: Path, headers: list[str], rejections) -> None:
    from qianke.dataio.selectors import rejection_rows, rejections_csv, rejections_xlsx

    rows = rejection_rows(headers, rejections)
    path.write_bytes(rejections_xlsx(rows) if path.suffix.lower() == ".xlsx" else rejections_csv(rows))


def _import_file(args, path: Path) -> int:
    from django.utils.translation import pgettext

    from qianke.cli import ProgressBar, UsageError
    from qianke.core.errors import PermissionDenied, ValidationFailed
    from qianke.dataio import services
    from qianke.dataio.mapping import parse_map_options
    from qianke.dataio.models import ImportJob

    if not path.is_file():
        raise UsageError(_("FILE: there is no file “%(path)s”") % {"path": path})
    if args.rejects and Path(args.rejects).suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(_("--rejects: the file name must end in .csv or .xlsx"))
    actor = _actor(args.as_user)
    try:
        overrides = parse_map_options(args.map or [])
        if args.dry_run:
            result = services.import_check(actor=actor, path=path, mapping=overrides, sheet=args.sheet,
                                           owner=args.owner, pool_name=args.pool, duplicates=args.duplicates,
                                           progress=ProgressBar(pgettext("progress bar", "check")))
            print(_("Dry run of %(file)s: %(read)s rows read, %(valid)s valid, %(rejected)s rejected (%(skipped)s "
                    "of them skipped as duplicates), %(flagged)s to review as possible duplicates. "
                    "Nothing was written.")
                  % {"file": path.name, "read": f"{result['read']:,}", "valid": f"{result['valid']:,}",
                     "rejected": f"{len(result['rejected']):,}", "skipped": f"{result['skipped']:,}",
                     "flagged": f"{result['flagged']:,}"})
            _print_mapping(result["mapping"])
            if args.rejects and result["rejected"]:
                _write_rejects(Path(args.rejects), result["headers"], result["rejected"])
                print(_("Rejected rows with their reasons: %(file)s") % {"file": args.rejects})
            return 1 if result["rejected"] else 0
        job = services.import_find_resumable(actor=actor, path=path, sheet=args.sheet)
        # With nothing to continue, an import found here is a finished one.
        done = None if job is not None else services.import_find_previous(actor=actor, path=path, sheet=args.sheet)
        if done is not None and not args.again:
            raise UsageError(_("FILE: this file was imported already (import #%(id)s); "
                               "add --again to import it once more") % {"id": done.pk})
        if job is not None:
            if job.status == ImportJob.Status.FAILED:  # stopped by an error: continue it, never import twice
                job = services.import_continue(actor=actor, job_id=job.pk, wake=False)
            print(_("Continuing import #%(id)s of %(file)s after row %(row)s.")
                  % {"id": job.pk, "file": job.file_name, "row": job.checkpoint}, file=sys.stderr)
        else:
            job = services.import_create(actor=actor, path=path, file_name=path.name, mapping=overrides,
                                         mode=args.mode, sheet=args.sheet, owner=args.owner, pool_name=args.pool,
                                         claim=True, duplicates=args.duplicates, again=args.again)
        job = services.import_run(job_id=job.pk, progress=ProgressBar(pgettext("progress bar", "import")),
                                  batch_size=args.batch_size, take_over=True)
    except ValidationFailed as exc:
        raise _usage_from(exc) from None
    except PermissionDenied as exc:
        raise UsageError(str(exc.message)) from None
    counts = {"id": job.pk, "file": job.file_name, "mode": _mode_word(job.mode),
              "status": job.get_status_display(), "read": f"{job.read_rows:,}",
              "customers": f"{job.created_customers:,}", "contacts": f"{job.created_contacts:,}",
              "activities": f"{job.created_activities:,}", "rejected": f"{job.rejected_rows:,}",
              "skipped": f"{job.skipped_rows:,}"}
    if job.skipped_rows:
        print(_("Import #%(id)s of %(file)s (%(mode)s): %(status)s. %(read)s rows read, %(customers)s customers, "
                "%(contacts)s contacts and %(activities)s follow-ups created, %(rejected)s rows rejected "
                "(%(skipped)s skipped as duplicates).") % counts)
    else:
        print(_("Import #%(id)s of %(file)s (%(mode)s): %(status)s. %(read)s rows read, %(customers)s customers, "
                "%(contacts)s contacts and %(activities)s follow-ups created, %(rejected)s rows rejected.")
              % counts)
    if job.flagged_rows:
        print(_("%(n)s rows look like existing customers or other rows: review them on the Duplicates page, "
                "/duplicates/?import=%(id)s") % {"n": f"{job.flagged_rows:,}", "id": job.pk})
    if job.error:
        print(job.error, file=sys.stderr)
    if job.warning:
        print(job.warning, file=sys.stderr)
    if args.rejects and job.rejected_rows:
        from qianke.dataio.selectors import rejections_file

        rejects = Path(args.rejects)
        rejects.write_bytes(rejections_file(job=job, file_format="xlsx" if rejects.suffix.lower() == ".xlsx" else "csv"))
        print(_("Rejected rows with their reasons: %(file)s") % {"file": args.rejects})
    if job.status == ImportJob.Status.FAILED and not job.rejected_rows:
        return 2
    return 1 if job.rejected_rows else 0


def _mode_word(mode: str) -> str:
    """The short name of an import mode, as the command's --mode spells it."""
    return {"partial": _("partial"), "atomic": _("atomic")}.get(mode, mode)


def _print_mapping(mapping: dict[str, str]) -> None:
    print(_("Columns: %(columns)s") % {"columns": ", ".join(f"{field}={column}" for field, column in mapping.items())})


def cmd_export(args) -> int:
    from qianke.accounts.models import Team
    from qianke.cli import UsageError
    from qianke.customers.selectors import CustomerFilters
    from qianke.dataio.services import customer_export

    out = Path(args.out)
    file_format = out.suffix.lower().lstrip(".")
    if file_format not in ("csv", "xlsx"):
        raise UsageError(_("OUT: the file name must end in .csv or .xlsx"))
    actor = _actor(args.as_user)
    team = None
    if args.team:
        team = Team.objects.filter(name=args.team).first()
        if team is None:
            raise UsageError(_("--team: there is no team “%(name)s”") % {"name": args.team})
    owner = None
    if args.owner:
        owner = _actor(args.owner, "--owner")
    filters = CustomerFilters(q=args.q, status=args.status, kind=args.kind, industry=args.industry,
                              province=args.province, city=args.city, owner=owner.pk if owner else None,
                              team=team.pk if team else None, tag=args.tag)
    result = customer_export(actor=actor, filters=filters, file_format=file_format)
    with open(out, "wb") as f:
        if file_format == "csv":
            for chunk in result.body:
                f.write(chunk)
        else:
            with result.body as body:
                while block := body.read(1 << 20):
                    f.write(block)
    print(_("Exported %(n)s customers to %(file)s.") % {"n": f"{result.rows:,}", "file": out})
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the `qianke` parser (called by qianke.cli.build_parser)."""
    from qianke.cli import LIFECYCLE_STATUSES, _positive

    p = sub.add_parser("import", help="import customers, contacts and follow-ups from CSV or XLSX; list; undo",
                       epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", nargs="+", metavar="FILE | list | undo ID")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="map a column to a field (repeatable)")
    p.add_argument("--sheet", default="", metavar="NAME", help="the XLSX sheet (default: the first)")
    p.add_argument("--owner", default=None, metavar="USER", help="owner of the new customers (default: --as)")
    p.add_argument("--pool", default="", metavar="NAME", help="put the new customers, unowned, into this public pool")
    p.add_argument("--mode", choices=("partial", "atomic"), default="partial",
                   help="partial: import the valid rows, report the rest (default); atomic: all or nothing")
    p.add_argument("--duplicates", choices=("flag", "skip"), default="flag",
                   help="rows that look like existing customers or other rows: flag imports them and lists them "
                        "for review (default); skip leaves out those that are the same customer (with the reason)")
    p.add_argument("--dry-run", action="store_true", help="validate every row, write nothing")
    p.add_argument("--rejects", default="", metavar="OUT", help="write the rejected rows with reasons (.csv/.xlsx)")
    p.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                   help="the importing user (default: admin)")
    p.add_argument("--again", action="store_true", help="import a file that was imported before once more")
    p.add_argument("--batch-size", type=_positive, default=2000, metavar="N", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export the (filtered) customer list to CSV or XLSX")
    p.add_argument("out", metavar="OUT", help="the file to write: .csv (UTF-8 with BOM) or .xlsx")
    p.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                   help="export what this user sees (default: admin)")
    p.add_argument("--q", default="", metavar="TEXT", help="search text, as in the list's search box")
    p.add_argument("--status", default="", choices=("", *LIFECYCLE_STATUSES))
    p.add_argument("--kind", default="", choices=("", "organization", "individual"))
    p.add_argument("--industry", default="", metavar="VALUE")
    p.add_argument("--province", default="")
    p.add_argument("--city", default="")
    p.add_argument("--owner", default="", metavar="USER")
    p.add_argument("--team", default="", metavar="NAME", help="the team and the teams below it")
    p.add_argument("--tag", default="")
    p.set_defaults(func=cmd_export)
