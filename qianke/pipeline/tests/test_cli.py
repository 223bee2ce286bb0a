"""`qianke deal move` and `qianke deal report`, run in-process through qianke.cli.main."""

import pytest

from qianke.cli import main
from qianke.pipeline.models import Deal, DealStageChange


@pytest.fixture
def run(capsys):
    def call(*argv):
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def test_move_refused_lists_the_unmet_items_and_a_manager_overrides(org, make_deal, run):
    deal = make_deal(org.rep)
    code, out, err = run("deal", "move", str(deal.pk), "立项", "--by", org.rep.username)
    assert code == 2 and "获得准确的项目信息" in err and "--override" not in err
    code, out, err = run("deal", "move", str(deal.pk), "立项", "--by", org.manager.username)
    assert code == 2 and "--override" in err
    code, out, err = run("deal", "move", str(deal.pk), "立项", "--override", "电话确认", "--by", org.manager.username)
    assert code == 0 and "立项" in out and "电话确认" in out
    change = DealStageChange.objects.get(deal=deal, stage__name="立项")
    assert change.override_reason == "电话确认" and change.actor == org.manager
    assert change.deal.stage.name == "立项"
    from qianke.core.models import AuditLog

    assert AuditLog.objects.filter(object_type="deal", object_id=deal.pk).first().source == "cli"


def test_move_usage_errors(org, make_deal, run):
    deal = make_deal(org.rep)
    assert run("deal", "move", str(deal.pk), "不存在", "--by", org.rep.username)[0] == 2
    assert run("deal", "move", str(deal.pk), "立项", "--by", "nobody")[0] == 2
    code, _, err = run("deal", "move", str(deal.pk), "立项", "--by", org.rep_north.username)
    assert code == 2 and "may see" in err
    code, _, err = run("deal", "move", str(deal.pk), "输单", "--by", org.rep.username)
    assert code == 2 and "reason" in err
    code, out, _ = run("deal", "move", str(deal.pk), "输单", "--reason", "价格偏高", "--by", org.rep.username)
    assert code == 0 and Deal.objects.get(pk=deal.pk).semantic == "lost"


def test_reports_print_tables(org, make_deal, run):
    make_deal(org.rep, name="报表商机", amount="100000", expected_close_date="2026-12-15")
    code, out, _ = run("deal", "report", "forecast", "--start", "2026-12-01", "--months", "2", "--by", org.gm.username)
    assert code == 0 and "2026-12\t2027-01" in out and "rep_east (华东组)\t10,000\t0\t10,000" in out
    code, out, _ = run("deal", "report", "funnel", "--process", "大客户销售流程", "--by", org.gm.username)
    assert code == 0 and "客户开发\t1\t0%" in out and "win rate —" in out
    code, out, _ = run("deal", "report", "stalled", "--by", org.gm.username)
    assert code == 0 and out.startswith("0 stalled deals")
    assert run("deal", "report", "funnel", "--process", "无此流程", "--by", org.gm.username)[0] == 2
    assert run("deal", "report", "nonsense")[0] == 2
