"""The `qianke` console script: init, serve, demo, user, token, check, worker, jobs.

Thin: parse the arguments, call services, print. Errors in the arguments (an unknown role, a user
that does not exist, a bad number) print one line on stderr naming the argument and exit with 2,
before anything is written.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qianke.core.cli_text import gettext as _

URL = "http://{host}:{port}"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD_FILE = "admin-password.txt"
DEFAULT_DEMO_CUSTOMERS = 2_000
MAX_CUSTOMERS = 10_000_000  # as qianke.core.demo.MAX_CUSTOMERS; parsing comes before Django is set up
ROLES = ("sales", "manager", "info", "service", "gm", "admin")
CAPABILITY_CLIS = ("qianke.pool.cli", "qianke.pipeline.cli", "qianke.dataio.cli", "qianke.dedupe.cli")
LIFECYCLE_STATUSES = ("potential", "new", "repeat", "dormant", "lost")  # as qianke.customers.choices.Status


class UsageError(Exception):
    """A bad argument: reported on stderr with exit code 2."""


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qianke.settings")
    import django

    django.setup()
    from django.utils import translation

    from qianke.core.audit import set_audit_source

    # Messages in the terminal's language: Chinese under a zh_* locale, English otherwise.
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    translation.activate("zh-hans" if locale.lower().startswith("zh") else "en")

    set_audit_source("cli")


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _home() -> Path:
    from django.conf import settings

    return Path(settings.QIANKE_HOME)


def active_user(username: str, option: str = "--by"):
    """The active user named by a command-line option, or a UsageError naming that option."""
    from qianke.accounts.models import User

    user = User.objects.select_related("team").filter(username=username, is_active=True).first()
    if user is None:
        raise UsageError(_("%(option)s: there is no active user “%(name)s” (see: qianke user list).")
                         % {"option": option, "name": username})
    return user


def _write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 600 from the start, not chmod afterwards)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    path.chmod(0o600)


def _generate_password() -> str:
    return secrets.token_urlsafe(15)


def _field_errors(exc, names: dict[str, str]) -> UsageError:
    """ValidationFailed → one message naming the command-line argument of each field."""
    lines = []
    for field, messages in exc.fields.items():
        lines.append(f"{names.get(field, field)}: {' '.join(str(m) for m in messages)}")
    return UsageError("; ".join(lines) or str(exc.message))


def _customer_count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_CUSTOMERS:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_CUSTOMERS:,}, got {value:,}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected 1 to 65535, got {value}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


class ProgressBar:
    """A plain-text bar on stderr, redrawn with \\r at most every 0.2 s."""

    def __init__(self, label: str, stream=None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        filled = int(self.width * done / total) if total else self.width
        rate = done / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} "
            f"{100 * done / max(total, 1):3.0f}%  {rate:,.0f}/s"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def _count_label(key: str) -> str:
    """What a capability's demo counted (the keys of its counts), in the terminal's language."""
    from django.utils.translation import pgettext

    labels = {
        "status changes": pgettext("demo count", "status changes"),
        "origins": pgettext("demo count", "origins"),
        "qualifications": pgettext("demo count", "qualifications"),
        "pools": pgettext("demo count", "pools"),
        "pool_customers": pgettext("demo count", "customers in pools"),
        "deals": pgettext("demo count", "deals"),
        "stage_changes": pgettext("demo count", "stage changes"),
        "checklist_ticks": pgettext("demo count", "checklist ticks"),
        "forecast_snapshot_rows": pgettext("demo count", "forecast snapshot rows"),
        "duplicate_customers": pgettext("demo count", "customers registered twice"),
        "duplicate_groups": pgettext("demo count", "duplicate groups"),
    }
    return labels.get(key, key)


def _run_demo(customers: int, seed: int) -> dict:
    from qianke.core.demo import demo_generate
    from qianke.customers.models import Customer

    # The capabilities' demo data goes to this run's customers only, never to the ones already there.
    customers_from = (Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    started = time.perf_counter()
    # The capabilities' rows that can be are written with the customers (LoadRows), the rest after.
    counts = demo_generate(customers=customers, seed=seed, progress=ProgressBar("demo"), capabilities=True)
    seconds = time.perf_counter() - started
    print(
        _("Demo data: %(customers)s customers, %(contacts)s contacts, %(activities)s follow-ups in %(seconds)s s "
          "(%(rate)s customers/s).")
        % {"customers": f"{counts['customers']:,}", "contacts": f"{counts['contacts']:,}",
           "activities": f"{counts['activities']:,}", "seconds": f"{seconds:.1f}",
           "rate": f"{counts['customers'] / max(seconds, 1e-9):,.0f}"}
    )
    print(_("Demo users (password for all: %(password)s): demo.gm, demo.director, demo.manager1…5, "
            "demo.sales11…54, demo.info, demo.service1…2") % {"password": counts["password"]})
    from qianke.core.demo import demo_capabilities

    def report(module: str, extra: dict) -> None:
        details = ", ".join(f"{v:,} {_count_label(k)}" if isinstance(v, int) else f"{_count_label(k)}: {v}"
                            for k, v in extra.items())
        print(_("Demo data from %(module)s: %(details)s (%(seconds)s s in all).")
              % {"module": module.split(".")[1], "details": details or _("done"),
                 "seconds": f"{time.perf_counter() - started:.1f}"}, flush=True)

    demo_capabilities(seed=seed, customers=customers, loaded=counts.get("capabilities"), done=report,
                      customers_from=customers_from)
    return counts


def cmd_init(args) -> int:
    from django.db import transaction

    from qianke.accounts.models import Role, User
    from qianke.accounts.services import user_create
    from qianke.core.errors import ValidationFailed
    from qianke.customers.models import Customer

    _migrate()
    from qianke.core.bulk_indexes import key_not_validated_message, restore_suspended_indexes

    keys_failed: list = []
    restored = restore_suspended_indexes(keys_failed=keys_failed)
    if len(restored) > len(keys_failed):
        print(_("Built %(n)s indexes again that an interrupted bulk load had left dropped.")
              % {"n": len(restored) - len(keys_failed)})
    for key, exc in keys_failed:  # the rest of init goes on; the key is tried again next time
        print(key_not_validated_message(key, exc), file=sys.stderr)
    password_file = _home() / ADMIN_PASSWORD_FILE
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        password = args.admin_password or _generate_password()
        try:
            with transaction.atomic():
                user_create(username=ADMIN_USERNAME, role=Role.ADMIN, password=password,
                            full_name="管理员", validate=True)
        except ValidationFailed as exc:
            raise _field_errors(exc, {"password": "--admin-password", "username": "admin"}) from None
        print(_("Created the administrator “%(name)s”.") % {"name": ADMIN_USERNAME})
        if args.admin_password:
            password_file.unlink(missing_ok=True)
            print(_("Password: the one given with --admin-password."))
        else:
            _write_secret(password_file, password)
            print(_("Password: %(password)s") % {"password": password})
            print(_("(saved in %(file)s, readable only by you; change it after the first login)")
                  % {"file": password_file})
    else:
        print(_("The administrator “%(name)s” exists already; nothing changed.") % {"name": ADMIN_USERNAME})
        if password_file.exists():
            print(_("Its initial password is in %(file)s.") % {"file": password_file})
    if args.demo_if_empty:
        if Customer.objects.exists():
            print(_("Customers exist already: no demo data added."))
        else:
            _run_demo(DEFAULT_DEMO_CUSTOMERS, 1)
    serve = "qianke serve" + (f" --host {args.host}" if args.host != DEFAULT_HOST else "") + (
        f" --port {args.port}" if args.port != DEFAULT_PORT else "")
    print(_("Open %(url)s and log in as “%(name)s” (start the server with: %(command)s).")
          % {"url": URL.format(host=args.host, port=args.port), "name": ADMIN_USERNAME, "command": serve})
    return 0


def gunicorn_options(args, known: Any) -> dict[str, Any]:
    """gunicorn's settings for qianke serve. gunicorn 25.1+ opens a control socket (for gunicornc) at
    $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl, one path for every instance of the same
    user: Qianke does not use it, so it is switched off where gunicorn has it (`known`: its settings)."""
    options: dict[str, Any] = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "worker_class": "gthread",
        "threads": args.threads,
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "qianke",
    }
    if "control_socket_disable" in known:
        options["control_socket_disable"] = True
    return options


def cmd_serve(args) -> int:
    from gunicorn.app.base import BaseApplication

    _migrate()
    from qianke.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(args, self.cfg.settings).items():
                self.cfg.set(key, value)

        def load(self):
            return application

    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Qianke at {URL.format(host=host, port=args.port)} ({args.workers} workers × {args.threads} threads); "
          "Ctrl+C stops it.", flush=True)
    worker = None if args.no_worker else _start_worker()
    serve_pid = os.getpid()
    try:
        Server().run()
    finally:
        # gunicorn's forked web workers leave through here too (sys.exit): only the master stops it.
        if worker is not None and os.getpid() == serve_pid:
            _stop_worker(worker)
    return 0


def _start_worker():
    """The background worker as a child process (`qianke worker`); it stops when serve stops."""
    import subprocess

    return subprocess.Popen([sys.executable, "-m", "qianke.cli", "worker", "--parent-pid", str(os.getpid())])


def _stop_worker(worker) -> None:
    import subprocess

    if worker.poll() is None:
        worker.terminate()  # SIGTERM: the worker finishes the job at hand, then exits
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def cmd_worker(args) -> int:
    from qianke.jobs.worker import run_worker

    run_worker(once=args.once, parent_pid=args.parent_pid)
    return 0


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def cmd_jobs_list(args) -> int:
    from django.utils import timezone

    from qianke.jobs.selectors import job_overview

    rows = [("name", "schedule", "last run", "status", "description")]
    for item in job_overview(recent=1):
        run = item.last_run
        when = timezone.localtime(run.started_at or run.created_at).strftime("%Y-%m-%d %H:%M") if run else ""
        rows.append((item.job.name, item.job.schedule.describe(), when, run.status if run else "never",
                     str(item.job.description)))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_jobs_run(args) -> int:
    from qianke.jobs.registry import get_job
    from qianke.jobs.services import job_run

    if get_job(args.name) is None:
        from qianke.jobs.registry import all_jobs

        raise UsageError(_("NAME: there is no job “%(name)s” (known: %(known)s).")
                         % {"name": args.name, "known": ", ".join(j.name for j in all_jobs())})
    run = job_run(name=args.name, today=args.date, force=True)
    counts = ", ".join(f"{k}={v}" for k, v in run.counts.items()) or "no counts"
    if run.status != "succeeded":
        print(f"{run.name} failed after {run.duration or 0:.1f} s:\n{run.error}", file=sys.stderr)
        return 1
    print(f"{run.name} ({run.today}) succeeded in {run.duration or 0:.1f} s: {counts}")
    return 0


def cmd_demo(args) -> int:
    _migrate()
    _run_demo(args.customers, args.seed)
    return 0


def _team_names() -> str:
    from qianke.accounts.models import Team

    return "、".join(Team.objects.order_by("name").values_list("name", flat=True)[:50]) or "—"


def cmd_user_add(args) -> int:
    from django.db import transaction

    from qianke.accounts.models import Team
    from qianke.accounts.services import team_create, user_create
    from qianke.core.errors import ValidationFailed

    generated = args.password is None
    password = _generate_password() if generated else args.password
    name = (args.team or "").strip()
    team = Team.objects.filter(name=name).first() if name else None
    parent = None
    if args.parent_team:
        parent = Team.objects.filter(name=args.parent_team.strip()).first()
        if parent is None:
            raise UsageError(_("--parent-team: there is no team “%(name)s” (teams: %(teams)s).")
                             % {"name": args.parent_team, "teams": _team_names()})
        if not (name and team is None and args.create_team):
            raise UsageError(_("--parent-team: only for a team created with --create-team."))
    if name and team is None and not args.create_team:
        raise UsageError(_("--team: there is no team “%(name)s” (teams: %(teams)s); add --create-team to create "
                           "it.") % {"name": name, "teams": _team_names()})
    try:
        with transaction.atomic():  # the team is created only together with the user
            if name and team is None:
                team = team_create(name=name, parent=parent)
            user = user_create(username=args.name, role=args.role, password=password, team=team,
                               full_name=args.full_name or "", validate=True)
    except ValidationFailed as exc:
        raise _field_errors(exc, {"username": "NAME", "role": "--role", "password": "--password",
                                  "name": "--team"}) from None
    print(_("Created user “%(name)s” (role %(role)s%(team)s).")
          % {"name": user.username, "role": user.role, "team": ", " + _("team %(team)s") % {"team": team.name}
             if team else ""})
    if generated:
        print(_("Password: %(password)s") % {"password": password})
    return 0


def cmd_user_list(args) -> int:
    from qianke.accounts.models import User

    rows = [("username", "full name", "role", "team", "active", "last login")]
    for u in User.objects.select_related("team").order_by("username"):
        rows.append((u.username, u.full_name, u.role, u.team.name if u.team else "", "yes" if u.is_active else "no",
                     f"{u.last_login:%Y-%m-%d %H:%M}" if u.last_login else ""))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def cmd_token_create(args) -> int:
    from qianke.accounts.models import User
    from qianke.accounts.services import api_token_create

    user = User.objects.filter(username=args.name).first()
    if user is None:
        raise UsageError(_("NAME: there is no user “%(name)s” (see: qianke user list).") % {"name": args.name})
    if not user.is_active:
        raise UsageError(_("NAME: the user “%(name)s” is deactivated.") % {"name": args.name})
    _token, key = api_token_create(user=user, name=args.label)
    # The token stays the last word of the output (scripts take it from there).
    print(_("API token for %(name)s (shown once; send it as “Authorization: Bearer <token>”):")
          % {"name": user.username} + f" {key}")
    return 0


def cmd_customer_transition(args) -> int:
    from qianke.core.errors import Conflict, NotFound, ValidationFailed
    from qianke.customers.lifecycle import customer_transition
    from qianke.customers.models import Customer

    actor = active_user(args.by)
    customer = Customer.objects.visible_to(actor).filter(code=args.code.strip().upper()).first()
    if customer is None:
        raise UsageError(_("CODE: there is no customer “%(code)s” that %(user)s may see.")
                         % {"code": args.code, "user": actor.username})
    try:
        customer = customer_transition(actor=actor, customer_id=customer.pk, to_status=args.status,
                                       reason=args.reason, competitor=args.competitor)
    except ValidationFailed as exc:
        raise _field_errors(exc, {"to_status": "STATUS", "reason": "--reason", "competitor": "--competitor"}) from None
    except (Conflict, NotFound) as exc:
        raise UsageError(str(exc.message)) from None
    print(_("%(code)s %(name)s: now %(status)s.") % {"code": customer.code, "name": customer.name,
                                                     "status": customer.get_status_display()})
    return 0


def cmd_check(args) -> int:
    results: list[tuple[bool, str, str]] = []

    def check(name: str, func: Callable[[], str]) -> None:
        try:
            results.append((True, name, func()))
        except Exception as exc:  # report every failing check, not only the first
            results.append((False, name, str(exc) or exc.__class__.__name__))

    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from qianke.customers import search

    def database() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        name = connection.settings_dict["NAME"]
        version = ".".join(map(str, connection.Database.sqlite_version_info)) if connection.vendor == "sqlite" \
            else connection.pg_version
        return f"{connection.vendor} {version}, {name}"

    def migrations() -> str:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise RuntimeError(f"{len(plan)} migration(s) not applied: run 'qianke init'")
        return "all applied"

    def wal() -> str:
        if connection.vendor != "sqlite":
            return "not SQLite"
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"journal_mode is {mode}, expected wal")
        return "journal_mode=wal"

    def home() -> str:
        path = _home()
        with tempfile.NamedTemporaryFile(dir=path, prefix=".check-"):
            pass
        return f"{path} is writable"

    def secret() -> str:
        key = settings.SECRET_KEY or ""
        if len(key) < 40 or key.startswith("django-insecure"):
            raise RuntimeError("SECRET_KEY is missing or too short")
        return f"present ({len(key)} characters)"

    def search_index() -> str:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = %s", [search.FTS_TABLE])
                tables = cursor.fetchone()[0]
                cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                               "AND tbl_name = 'customers_customersearch'")
                triggers = cursor.fetchone()[0]
                if tables != 1 or triggers != 3:
                    raise RuntimeError(f"FTS5 table {'present' if tables else 'missing'}, {triggers}/3 triggers")
                cursor.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
                return "FTS5 table and triggers present, integrity ok"
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)", [search.PG_INDEX_NAMES])
            present = cursor.fetchone()[0]
            if present != len(search.PG_INDEX_NAMES):
                raise RuntimeError(f"{present}/{len(search.PG_INDEX_NAMES)} GIN indexes present")
            return "GIN indexes present"

    def counts() -> str:
        from qianke.accounts.models import User
        from qianke.activities.models import Activity
        from qianke.customers.models import Contact, Customer, CustomerSearch

        customers = Customer.objects.filter(archived_at__isnull=True).count()
        entries = CustomerSearch.objects.count()
        text = (f"{User.objects.count():,} users, {customers:,} customers, {Contact.objects.count():,} contacts, "
                f"{Activity.objects.count():,} follow-ups, {entries:,} search entries")
        if entries != customers:
            raise RuntimeError(text + " — search entries should equal unarchived customers")
        return text

    def bulk_indexes() -> str:
        from qianke.core.models import SuspendedIndex

        left = list(SuspendedIndex.objects.order_by("name").values_list("name", flat=True))
        if left:
            raise RuntimeError(f"{len(left)} index(es) or foreign key(s) dropped or not validated by a bulk load "
                               f"(one running now, or one that could not finish; 'qianke init' tries again): "
                               f"{', '.join(left)}")
        return "none left dropped or not validated"

    check("database", database)
    reachable = results[-1][0]
    check("QIANKE_HOME", home)
    check("secret key", secret)
    if reachable:
        check("migrations", migrations)
        check("SQLite WAL", wal)
        check("search index", search_index)
        check("bulk-load indexes", bulk_indexes)
        check("counts", counts)
    width = max(len(name) for _, name, _ in results)
    for ok, name, text in results:
        print(f"{'ok  ' if ok else 'FAIL'}  {name:<{width}}  {text}")
    failed = [name for ok, name, _ in results if not ok]
    if failed:
        print(f"{len(failed)} check(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qianke", description="Qianke (潜客) CRM: set up, serve and manage.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create or upgrade the database and the administrator")
    p.add_argument("--demo-if-empty", action="store_true",
                   help=f"add demo data ({DEFAULT_DEMO_CUSTOMERS:,} customers) when there are no customers")
    p.add_argument("--admin-password", metavar="PW", help="the administrator's password (default: generated)")
    p.add_argument("--host", default=DEFAULT_HOST, help="the host qianke serve will listen on (for the address "
                   "printed)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help="the port qianke serve will listen on (for "
                   "the address printed)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("serve", help="run the production web server (gunicorn)")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=_port, default=DEFAULT_PORT)
    p.add_argument("--workers", type=_positive, default=2, metavar="N", help="worker processes (default 2)")
    p.add_argument("--threads", type=_positive, default=4, metavar="N", help="threads per worker (default 4)")
    p.add_argument("--no-worker", action="store_true", help="do not start the background-job worker")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run the background-job worker in the foreground")
    p.add_argument("--once", action="store_true", help="run what is due now, then exit (for tests or cron)")
    p.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_worker)

    jobs = sub.add_parser("jobs", help="list or run background jobs").add_subparsers(
        dest="jobs_command", required=True, metavar="ACTION")
    p = jobs.add_parser("list", help="list the jobs with their schedule and last run")
    p.set_defaults(func=cmd_jobs_list)
    p = jobs.add_parser("run", help="run a job now and print its counts")
    p.add_argument("name", metavar="NAME", help="the job's name (see: qianke jobs list)")
    p.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD", help="the day to run it for")
    p.set_defaults(func=cmd_jobs_run)

    p = sub.add_parser("demo", help="add realistic Chinese demo data")
    p.add_argument("--customers", type=_customer_count, default=DEFAULT_DEMO_CUSTOMERS, metavar="N")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="add or list users").add_subparsers(dest="user_command", required=True,
                                                                        metavar="ACTION")
    p = user.add_parser("add", help="add a user")
    p.add_argument("name", metavar="NAME", help="user name for logging in")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--team", help="the name of an existing team (or a new one, with --create-team)")
    p.add_argument("--create-team", action="store_true", help="create the --team when there is none of that name")
    p.add_argument("--parent-team", metavar="TEAM", help="with --create-team: the team the new one is under")
    p.add_argument("--password", metavar="PW", help="password (default: generated and printed)")
    p.add_argument("--full-name", default="")
    p.set_defaults(func=cmd_user_add)
    p = user.add_parser("list", help="list users")
    p.set_defaults(func=cmd_user_list)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True,
                                                                      metavar="ACTION")
    p = token.add_parser("create", help="create an API token for a user; the token is the last word printed")
    p.add_argument("name", metavar="NAME", help="the user's user name")
    p.add_argument("--label", default="cli", help="what the token is for (default: cli)")
    p.set_defaults(func=cmd_token_create)

    p = sub.add_parser("check", help="check configuration and database health")
    p.set_defaults(func=cmd_check)

    customer = sub.add_parser("customer", help="customer lifecycle").add_subparsers(
        dest="customer_command", required=True, metavar="ACTION")
    p = customer.add_parser("transition", help="move a customer to another lifecycle status")
    p.add_argument("code", metavar="CODE", help="the customer code, e.g. KH202611000123")
    p.add_argument("status", metavar="STATUS", choices=LIFECYCLE_STATUSES,
                   help="one of: " + ", ".join(LIFECYCLE_STATUSES))
    p.add_argument("--reason", default="", help="why (required for lost, dormant and win-back)")
    p.add_argument("--competitor", default="", help="the competitor that took the customer (to lost)")
    p.add_argument("--by", default=ADMIN_USERNAME, metavar="USER",
                   help=f"the user making the change (default: {ADMIN_USERNAME})")
    p.set_defaults(func=cmd_customer_transition)

    # Capability apps add their own subcommands.
    for module in CAPABILITY_CLIS:
        importlib.import_module(module).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a bad argument (2), already printed
        return int(exc.code or 0)
    _setup()
    try:
        return args.func(args)
    except UsageError as exc:
        action = getattr(args, f"{args.command}_command", None)
        print(f"qianke {args.command}{' ' + action if action else ''}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if argv is None:
            # The command line's own process, about to end: its objects are left out of the collections
            # the interpreter runs as it shuts down, which walk every object (half a second after a
            # large `qianke demo`, the pinyin dictionaries and Django). Not for callers passing argv.
            # The database connections are closed first: they sit in reference cycles, which frozen
            # objects keep (SQLite's last checkpoint, PostgreSQL's orderly goodbye).
            from django.db import connections

            connections.close_all()
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
