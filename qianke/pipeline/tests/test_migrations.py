"""The shipped process templates of seed 002 (migration 0002) and the reason list."""

import pytest

from qianke.pipeline.models import ChecklistItem, DealReason, Process, Semantic, Stage
from qianke.pipeline.seed import create_templates


def names(process):
    return [s.name for s in process.stages.order_by("order")]


@pytest.mark.django_db
def test_three_templates_are_shipped_with_the_seeds_stages():
    dev = Process.objects.get(code="big_account_development")
    assert dev.name == "大客户开发流程"
    assert names(dev)[:5] == ["确定开发对象", "样品资料提供/信息收集", "价值评估/开发程序", "关系建立", "促成成交"]
    sales = Process.objects.get(code="big_account_sales")
    assert names(sales)[:6] == ["客户开发", "立项", "提案", "招投标", "商务谈判", "工程实施"]
    key_nodes = list(sales.stages.order_by("order").values_list("key_node", flat=True))[:6]
    assert key_nodes == ["准确的项目信息", "售前立项", "有效的客户关系推进", "投标或议标", "合同审批和合同签订",
                         "工程验收和项目结项"]
    agent = Process.objects.get(code="regional_agent")
    trial = agent.stages.get(name="签约试合作")
    assert trial.normal_days == 90 and "三个月" in trial.key_node
    assert trial.checklist.filter(required=True, text__contains="三个月试合作").exists()


@pytest.mark.django_db
def test_every_template_ends_in_won_and_lost_and_probabilities_rise():
    for process in Process.objects.all():
        stages = list(process.stages.order_by("order"))
        assert [s.semantic for s in stages[-2:]] == [Semantic.WON, Semantic.LOST]
        assert all(s.semantic == Semantic.OPEN for s in stages[:-2])
        probs = [s.probability for s in stages[:-2]]
        assert probs == sorted(probs) and len(set(probs)) == len(probs)
        assert (stages[-2].probability, stages[-1].probability) == (100, 0)
        # every open stage has a key node the gate can check
        for s in stages[:-2]:
            assert s.key_node and (s.checklist.filter(required=True).exists() or s.required_fields)


@pytest.mark.django_db
def test_the_insider_and_decision_maker_work_is_on_the_development_checklist():
    stage = Stage.objects.get(process__code="big_account_development", name="样品资料提供/信息收集")
    required = list(stage.checklist.filter(required=True).values_list("text", flat=True))
    assert any("内线" in t for t in required) and any("关键决策人" in t for t in required)
    assert stage.keyword.startswith("内线")


@pytest.mark.django_db
def test_creating_templates_again_keeps_administrators_changes():
    stage = Stage.objects.get(process__code="big_account_sales", name="立项")
    stage.name = "售前立项阶段"
    stage.save()
    counts = (Process.objects.count(), Stage.objects.count(), ChecklistItem.objects.count(),
              DealReason.objects.count())
    create_templates(Process, Stage, ChecklistItem, DealReason)
    assert (Process.objects.count(), Stage.objects.count(), ChecklistItem.objects.count(),
            DealReason.objects.count()) == counts
    assert not Stage.objects.filter(process__code="big_account_sales", name="立项").exists()


@pytest.mark.django_db
def test_reasons_are_seeded_for_won_and_lost():
    assert DealReason.objects.filter(semantic="won").count() == 5
    assert set(DealReason.objects.filter(semantic="lost").values_list("name", flat=True)) >= {"价格偏高", "竞争对手胜出"}
