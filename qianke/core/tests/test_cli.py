"""The `qianke` console script, called in-process (main([...])) and once as a real subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from qianke import cli
from qianke.accounts.models import ApiToken, Role, Team, User
from qianke.accounts.services import api_token_authenticate
from qianke.core.models import AuditLog
from qianke.customers import search
from qianke.customers.models import Customer, CustomerSearch, StatusChange

pytestmark = pytest.mark.django_db

BIN = Path(sys.executable).parent


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- token -------------------------------------------------------------------------------------


def test_token_create_prints_a_working_token_last(capsys, make_user):
    user = make_user(Role.SALES, username="lina")
    code, out, err = run(capsys, "token", "create", "lina")
    assert code == 0, err
    token = out.split()[-1]
    assert token.startswith("qk_")
    assert api_token_authenticate(token) == user


def test_token_create_for_a_missing_user_fails_cleanly(capsys):
    code, out, err = run(capsys, "token", "create", "nobody")
    assert code == 2
    assert "NAME" in err and "nobody" in err
    assert not ApiToken.objects.exists()


# --- user --------------------------------------------------------------------------------------


def test_user_add_generates_and_prints_a_password(capsys):
    code, out, err = run(capsys, "user", "add", "wangfang", "--role", "manager", "--team", "华东组",
                         "--create-team", "--full-name", "王芳")
    assert code == 0, err
    user = User.objects.get(username="wangfang")
    assert user.role == Role.MANAGER and user.team.name == "华东组" and user.full_name == "王芳"
    password = re.search(r"Password: (\S+)", out).group(1)
    assert user.check_password(password)


def test_user_add_with_password_and_existing_team(capsys, make_team):
    team = make_team("华北组")
    code, out, err = run(capsys, "user", "add", "zhao", "--role", "sales", "--team", "华北组",
                         "--password", "Qianke-Strong-2026")
    assert code == 0, err
    user = User.objects.get(username="zhao")
    assert user.team == team and user.check_password("Qianke-Strong-2026")
    assert "Password:" not in out


def test_user_add_refuses_an_unknown_team_unless_asked_to_create_it(capsys, make_team):
    make_team("华北组")
    code, out, err = run(capsys, "user", "add", "zhao", "--role", "sales", "--team", "华北祖")
    assert code == 2 and "--team" in err and "华北祖" in err and "华北组" in err and "--create-team" in err
    assert not User.objects.exists() and not Team.objects.filter(name="华北祖").exists()
    code, out, err = run(capsys, "user", "add", "zhao", "--role", "sales", "--team", "北京小组", "--create-team",
                         "--parent-team", "华北组", "--password", "Qianke-Strong-2026")
    assert code == 0, err
    team = User.objects.get(username="zhao").team
    assert team.name == "北京小组" and team.parent.name == "华北组" and team.path.startswith(team.parent.path)
    code, out, err = run(capsys, "user", "add", "qian", "--role", "sales", "--team", "华北组", "--parent-team", "没有")
    assert code == 2 and "--parent-team" in err


def test_init_prints_the_address_serve_will_listen_on(capsys, home):
    code, out, err = run(capsys, "init", "--port", "8765", "--admin-password", "Qianke-Admin-2026")
    assert code == 0, err
    assert "http://127.0.0.1:8765" in out and "qianke serve --port 8765" in out
    assert "8000" not in out


def test_user_add_unknown_role_names_the_argument(capsys):
    code, out, err = run(capsys, "user", "add", "x", "--role", "boss")
    assert code == 2
    assert "--role" in err and "boss" in err
    assert not User.objects.exists()


def test_user_add_weak_password_writes_nothing(capsys):
    code, out, err = run(capsys, "user", "add", "li", "--role", "sales", "--team", "新团队", "--create-team",
                         "--password", "123")
    assert code == 2
    assert "--password" in err
    assert not User.objects.exists()
    assert not Team.objects.filter(name="新团队").exists()  # no half-written team


def test_user_add_duplicate_names_the_user(capsys, make_user):
    make_user(Role.SALES, username="dup")
    code, out, err = run(capsys, "user", "add", "dup", "--role", "sales")
    assert code == 2
    assert "NAME" in err
    assert User.objects.filter(username="dup").count() == 1


def test_user_list(capsys, make_user, make_team):
    make_user(Role.GM, username="boss")
    make_user(Role.SALES, make_team("华南组"), username="rep")
    code, out, err = run(capsys, "user", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["username", "full"]
    assert any(line.split()[:1] == ["boss"] and "gm" in line for line in lines)
    assert any(line.startswith("rep") and "华南组" in line for line in lines)


# --- init and demo -----------------------------------------------------------------------------


def test_init_creates_admin_once(capsys, home):
    code, out, err = run(capsys, "init")
    assert code == 0, err
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_superuser
    file = home / "admin-password.txt"
    password = file.read_text().strip()
    assert file.stat().st_mode & 0o777 == 0o600
    assert password in out and admin.check_password(password)
    assert "http://127.0.0.1:8000" in out
    assert len(password) >= 16

    code, out, err = run(capsys, "init")
    assert code == 0
    assert User.objects.filter(username="admin").get().password == admin.password
    assert file.read_text().strip() == password
    assert str(file) in out and password not in out
    assert not Customer.objects.exists()


def test_init_with_weak_admin_password_writes_nothing(capsys, home):
    code, out, err = run(capsys, "init", "--admin-password", "admin")
    assert code == 2
    assert "--admin-password" in err
    assert not User.objects.exists()
    assert not (home / "admin-password.txt").exists()


def test_init_demo_if_empty(capsys, home, monkeypatch):
    monkeypatch.setattr(cli, "DEFAULT_DEMO_CUSTOMERS", 40)
    code, out, err = run(capsys, "init", "--demo-if-empty", "--admin-password", "Qianke-Admin-2026")
    assert code == 0, err
    assert Customer.objects.count() == 40
    assert User.objects.get(username="admin").check_password("Qianke-Admin-2026")
    assert not (home / "admin-password.txt").exists()
    code, out, err = run(capsys, "init", "--demo-if-empty")
    assert code == 0
    assert Customer.objects.count() == 40


def test_demo_creates_the_requested_counts(capsys, home):
    code, out, err = run(capsys, "demo", "--customers", "150", "--seed", "4")
    assert code == 0, err
    assert Customer.objects.count() == 150 == CustomerSearch.objects.count()
    assert "150 customers" in out
    assert "demo [" in err and "150/150" in err  # progress bar on stderr
    # Each capability's demo data is reported as it is written, with the time so far.
    assert re.search(r"Demo data from customers: [\d,]+ status changes \(\d+\.\d s in all\)\.", out)
    assert re.search(r"Demo data from qualification: 150 qualifications \(\d+\.\d s in all\)\.", out)
    for c in Customer.objects.exclude(mobile=""):
        assert re.fullmatch(r"1[3-9]\d{9}", c.mobile_norm)
    for c in Customer.objects.exclude(phone=""):
        assert re.fullmatch(r"0\d{9,11}", c.phone_norm)
    password = re.search(r"password for all: (\S+)\)", out).group(1)
    assert User.objects.get(username="demo.gm").check_password(password)


def test_demo_leaves_the_customers_already_there_alone(capsys, home, make_user, make_customer):
    from qianke.leads.models import CustomerOrigin
    from qianke.pipeline.models import Deal
    from qianke.pool.models import PoolEntry
    from qianke.qualification.models import Qualification

    team = Team.objects.create(name="华东一组")
    rep = make_user(Role.SALES, team=team)
    real = [make_customer(rep, name=f"杭州真实客户{n}有限公司", phone=f"0571-8888800{n}", district="西湖区",
                          postcode="310000") for n in range(3)]
    before = {c.pk: (c.name, c.short_name, c.district, c.postcode, c.phone, c.updated_at) for c in
              Customer.objects.filter(pk__in=[c.pk for c in real])}
    histories = list(StatusChange.objects.filter(customer__in=real).order_by("pk").values_list("pk", "to_status"))
    code, out, err = run(capsys, "demo", "--customers", "300", "--seed", "4")
    assert code == 0, err
    assert Customer.objects.count() == 303
    ids = list(before)
    assert not CustomerOrigin.objects.filter(customer_id__in=ids).exists()
    assert not Qualification.objects.filter(customer_id__in=ids).exists()
    assert list(StatusChange.objects.filter(customer_id__in=ids).order_by("pk")
                .values_list("pk", "to_status")) == histories  # their creation's, nothing invented
    assert not PoolEntry.objects.filter(customer_id__in=ids).exists()
    assert not Deal.objects.filter(customer_id__in=ids).exists()
    after = {c.pk: (c.name, c.short_name, c.district, c.postcode, c.phone, c.updated_at) for c in
             Customer.objects.filter(pk__in=ids)}
    assert after == before
    # The demo's own customers got theirs.
    assert CustomerOrigin.objects.count() == Qualification.objects.count() == 300


@pytest.mark.parametrize("value", ["0", "-5", "abc", "20000000"])
def test_demo_rejects_bad_counts(capsys, home, value):
    code, out, err = run(capsys, "demo", "--customers", value)
    assert code == 2
    assert "--customers" in err
    assert not Customer.objects.exists() and not User.objects.exists()


def test_cli_changes_are_audited_as_cli(capsys, home, make_user):
    from qianke.core.audit import _source

    run(capsys, "user", "list")
    assert _source.get() == "cli"
    _source.set("web")
    assert AuditLog.objects.count() == 0


# --- check -------------------------------------------------------------------------------------


def _drop_search_trigger():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER customers_customersearch_ai")
        else:
            cursor.execute(f"DROP INDEX {search.PG_INDEX_NAMES[0]}")


def test_check_reports_a_missing_search_trigger(capsys, home):
    _drop_search_trigger()
    code, out, err = run(capsys, "check")
    assert code == 1
    assert re.search(r"^FAIL\s+search index", out, re.M)
    assert re.search(r"^ok\s+database", out, re.M)
    assert re.search(r"^ok\s+migrations", out, re.M)
    assert "search index" in err
    # put it back for the rest of the transaction
    with connection.cursor() as cursor:
        for sql in search.PG_INDEXES[:1] if connection.vendor == "postgresql" else search.SQLITE_SETUP[1:2]:
            cursor.execute(sql)


def test_check_reports_customers_missing_from_the_index(capsys, home, org, make_customer):
    make_customer(org.rep)
    CustomerSearch.objects.all().delete()
    code, out, err = run(capsys, "check")
    assert code == 1
    assert re.search(r"^FAIL\s+counts", out, re.M)


# --- the installed console script --------------------------------------------------------------


def test_console_script_end_to_end(tmp_path):
    """init twice, check, token create: a real process on a fresh SQLite database in QIANKE_HOME."""
    env = {k: v for k, v in os.environ.items() if k not in ("QIANKE_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(QIANKE_HOME=str(tmp_path), LANG="C.UTF-8")

    def qianke(*args):
        return subprocess.run([str(BIN / "qianke"), *args], env=env, capture_output=True, text=True, timeout=300)

    first = qianke("init")
    assert first.returncode == 0, first.stderr
    password = (tmp_path / "admin-password.txt").read_text().strip()
    assert password in first.stdout
    second = qianke("init")
    assert second.returncode == 0 and password not in second.stdout
    assert "admin-password.txt" in second.stdout
    check = qianke("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "journal_mode=wal" in check.stdout
    token = qianke("token", "create", "admin")
    assert token.returncode == 0 and token.stdout.split()[-1].startswith("qk_")
    bad = qianke("token", "create", "ghost")
    assert bad.returncode == 2 and "ghost" in bad.stderr


def test_serve_switches_gunicorns_control_socket_off():
    from gunicorn.config import Config

    args = cli.build_parser().parse_args(["serve", "--port", "8765"])
    options = cli.gunicorn_options(args, Config().settings)
    assert options["bind"] == "127.0.0.1:8765"
    if "control_socket_disable" in Config().settings:  # gunicorn 25.1 and later
        assert options["control_socket_disable"] is True
        config = Config()
        for key, value in options.items():
            config.set(key, value)
        assert config.control_socket_disable
    assert "control_socket_disable" not in cli.gunicorn_options(args, {"bind": None})  # older gunicorn
