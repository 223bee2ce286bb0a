"""`qianke pool list | add | claim | release | assign | transfer`, called in-process."""

from __future__ import annotations

import pytest

from qianke import cli
from qianke.core.models import AuditLog
from qianke.customers.models import Customer
from qianke.pool.models import OwnerChange, Pool

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_then_list(capsys, org):
    code, out, err = run(capsys, "pool", "add", "华东公海", "--team", "华东组", "--team", "华北组",
                         "--cap-per-rep", "none", "--cooldown-days", "10", "--by", "admin")
    assert code == 0, err
    pool = Pool.objects.get(name="华东公海")
    assert pool.cap_per_rep is None and pool.cooldown_days == 10
    assert set(pool.teams.values_list("name", flat=True)) == {"华东组", "华北组"}
    code, out, err = run(capsys, "pool", "list")
    assert code == 0 and "华东公海" in out and "in pool: 0" in out and "cool-down: 10 d" in out


def test_add_with_an_unknown_team_or_by_a_rep_is_a_usage_error(capsys, org):
    code, out, err = run(capsys, "pool", "create", "甲", "--team", "无此组", "--by", "admin")
    assert code == 2 and "--team" in err
    code, out, err = run(capsys, "pool", "add", "甲", "--by", "rep_east")
    assert code == 2 and "administrators" in err
    assert not Pool.objects.exists()


def test_claim_release_assign_transfer(capsys, org, pool, pooled):
    customer = pooled(pool)
    code, out, err = run(capsys, "pool", "claim", customer.code, "--by", "rep_east")
    assert code == 0, err
    assert Customer.objects.get(pk=customer.pk).owner == org.rep
    assert AuditLog.objects.filter(customer_id=customer.pk, action="owner_change", source="cli").exists()
    code, out, err = run(capsys, "pool", "claim", customer.code, "--by", "rep_east2")
    assert code == 2 and "(taken)" in err
    code, out, err = run(capsys, "pool", "release", customer.code, "--by", "rep_east", "--reason", "暂无需求")
    assert code == 0, err
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    code, out, err = run(capsys, "pool", "assign", customer.code, "--to", "rep_east2", "--by", "mgr_east")
    assert code == 0, err
    code, out, err = run(capsys, "pool", "transfer", customer.code, "--to", "rep_east", "--by", "mgr_east",
                         "--reason", "调岗")
    assert code == 0, err
    assert Customer.objects.get(pk=customer.pk).owner == org.rep
    assert list(OwnerChange.objects.filter(customer=customer).order_by("at", "id").values_list("kind", flat=True)) == [
        "pool_add", "claim", "release", "assign", "transfer"]


def test_bad_arguments_are_usage_errors(capsys, org, pool, pooled):
    customer = pooled(pool)
    code, out, err = run(capsys, "pool", "claim", "KH000", "--by", "rep_east")
    assert code == 2 and "CODE" in err
    code, out, err = run(capsys, "pool", "claim", customer.code, "--by", "nobody")
    assert code == 2 and "--by" in err
    code, out, err = run(capsys, "pool", "claim", customer.code, "--by", "rep_north")
    assert code == 2 and "CODE" in err
    code, out, err = run(capsys, "pool", "release", customer.code, "--by", "rep_east")
    assert code == 2  # --reason is required


def test_jobs_run_pool_returns_and_warnings(capsys, org, pool, pooled):
    customer = pooled(pool)
    run(capsys, "pool", "claim", customer.code, "--by", "rep_east")
    code, out, err = run(capsys, "jobs", "run", "pool.warnings")
    assert code == 0, err
    code, out, err = run(capsys, "jobs", "run", "pool.returns")
    assert code == 0 and "returned" in out, err
    assert Customer.objects.get(pk=customer.pk).owner == org.rep  # claimed today: nothing to return yet


def test_messages_follow_the_terminals_chinese_locale(org, capsys, monkeypatch):
    from django.utils import translation

    from qianke.pool.services import pool_create

    pool_create(actor=org.admin, data={"name": "华东公海", "teams": [org.east.pk]})
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    try:
        code, out, _err = run(capsys, "pool", "list")
    finally:
        translation.activate("en")
    assert code == 0 and "公海中" in out and "in pool" not in out
