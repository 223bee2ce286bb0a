"""Deal services: creation defaults, the key-node gate and its override, history, win/lose effects."""

import datetime as dt

import pytest
from django.utils import timezone

from qianke.core.errors import Conflict, NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.models import Customer
from qianke.pipeline.models import Deal, DealReason, DealStageChange, Semantic
from qianke.pipeline.selectors import open_deal_customer_ids
from qianke.pipeline.services import checklist_tick, deal_archive, deal_lose, deal_move, deal_update, deal_win


def lost_reason(name="价格偏高"):
    return DealReason.objects.get(semantic="lost", name=name)


def test_new_deal_starts_in_the_first_open_stage_with_its_probability(org, make_deal, stage, process):
    deal = make_deal(org.rep, amount="250000.5")
    sales = process("big_account_sales")
    assert deal.stage == stage(sales, "客户开发") and deal.semantic == Semantic.OPEN
    assert deal.probability == 10 and not deal.probability_overridden
    assert deal.owner == org.rep and deal.team == org.east
    assert str(deal.amount) == "250000.50"
    stay = DealStageChange.objects.get(deal=deal)
    assert stay.stage == deal.stage and stay.from_stage is None and stay.left_at is None
    log = AuditLog.objects.get(object_type="deal", object_id=deal.pk)
    assert log.action == "create" and log.customer_id == deal.customer_id


def test_a_deal_needs_a_customer_the_actor_can_see(org, make_customer, make_deal):
    other = make_customer(org.rep_north)
    with pytest.raises(ValidationFailed) as exc:
        make_deal(org.rep, customer=other)
    assert "customer" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        make_deal(org.rep, name="", amount="-5", purchase_window=2, probability=101)
    assert set(exc.value.fields) == {"name", "amount", "purchase_window", "probability"}


def test_probability_override_sticks_across_moves_until_reset(org, make_deal, stage, meet_key_node):
    deal = make_deal(org.rep)
    deal = deal_update(actor=org.rep, deal_id=deal.pk, data={"probability": 35})
    assert deal.probability == 35 and deal.probability_overridden
    meet_key_node(org.rep, deal, deal.stage)
    deal = deal_move(actor=org.rep, deal_id=deal.pk, stage_id=stage(deal.process, "立项").pk)
    assert deal.probability == 35
    deal = deal_update(actor=org.rep, deal_id=deal.pk, data={"probability": None})
    assert deal.probability == 25 and not deal.probability_overridden


def test_move_is_refused_listing_the_unmet_key_node(org, make_deal, stage):
    deal = make_deal(org.rep)
    target = stage(deal.process, "提案")  # skips 立项: both key nodes are needed
    with pytest.raises(Conflict) as exc:
        deal_move(actor=org.rep, deal_id=deal.pk, stage_id=target.pk)
    assert exc.value.code == "key_node_unmet"
    unmet = exc.value.extra["unmet"]
    assert [(u["stage_name"], u["kind"]) for u in unmet] == [
        ("客户开发", "item"), ("立项", "item"), ("立项", "field"), ("立项", "field")]
    assert {u["field"] for u in unmet if u["kind"] == "field"} == {"amount", "expected_close_date"}
    assert exc.value.extra["may_override"] is False
    deal.refresh_from_db()
    assert deal.stage.name == "客户开发" and DealStageChange.objects.filter(deal=deal).count() == 1


def test_move_is_allowed_once_the_key_nodes_are_met(org, make_deal, stage, meet_key_node):
    deal = make_deal(org.rep)
    meet_key_node(org.rep, deal, stage(deal.process, "客户开发"))
    meet_key_node(org.rep, deal, stage(deal.process, "立项"))
    deal = deal_move(actor=org.rep, deal_id=deal.pk, stage_id=stage(deal.process, "提案").pk)
    assert deal.stage.name == "提案" and deal.probability == 40
    assert deal.last_change.override_reason == "" and deal.last_change.unmet == []


def test_unticking_brings_the_gate_back(org, make_deal, stage):
    deal = make_deal(org.rep)
    item = stage(deal.process, "客户开发").checklist.get(required=True)
    checklist_tick(actor=org.rep, deal_id=deal.pk, item_id=item.pk, done=True)
    checklist_tick(actor=org.rep, deal_id=deal.pk, item_id=item.pk, done=False)
    with pytest.raises(Conflict):
        deal_move(actor=org.rep, deal_id=deal.pk, stage_id=stage(deal.process, "立项").pk)


def test_a_rep_cannot_override_but_a_manager_can_and_it_is_recorded(org, make_deal, stage):
    deal = make_deal(org.rep)
    target = stage(deal.process, "立项")
    with pytest.raises(Conflict) as exc:
        deal_move(actor=org.rep, deal_id=deal.pk, stage_id=target.pk, override_reason="客户很急")
    assert exc.value.extra["may_override"] is False
    moved = deal_move(actor=org.manager, deal_id=deal.pk, stage_id=target.pk, override_reason="总经理特批")
    change = moved.last_change
    assert change.override_reason == "总经理特批" and change.actor == org.manager
    assert [u["text"] for u in change.unmet] == ["获得准确的项目信息(需求、预算、时间、决策人)"]
    log = AuditLog.objects.filter(object_type="deal", object_id=deal.pk).first()
    assert log.actor == org.manager and log.changes["override_reason"] == [None, "总经理特批"]
    assert log.changes["stage"][1]["repr"] == "立项"


def test_moving_back_or_to_lost_needs_no_key_node(org, make_deal, stage):
    deal = make_deal(org.rep)
    deal = deal_move(actor=org.manager, deal_id=deal.pk, stage_id=stage(deal.process, "提案").pk,
                     override_reason="补录")
    deal = deal_move(actor=org.rep, deal_id=deal.pk, stage_id=stage(deal.process, "客户开发").pk)
    assert deal.stage.name == "客户开发" and deal.last_change.unmet == []
    with pytest.raises(ValidationFailed) as exc:
        deal_lose(actor=org.rep, deal_id=deal.pk, reason_id=None)
    assert "reason" in exc.value.fields
    deal = deal_lose(actor=org.rep, deal_id=deal.pk, reason_id=lost_reason().pk, reason_note="对手低 10%")
    assert deal.semantic == Semantic.LOST and deal.probability == 0 and deal.closed_at is not None
    assert deal.reason.name == "价格偏高" and deal.reason_note == "对手低 10%"


def test_stage_history_records_time_in_each_stage(org, make_deal, stage):
    start = timezone.now() - dt.timedelta(days=10)
    deal = make_deal(org.rep, at=start)
    deal = deal_move(actor=org.manager, deal_id=deal.pk, stage_id=stage(deal.process, "立项").pk,
                     override_reason="x", at=start + dt.timedelta(days=3))
    deal = deal_move(actor=org.manager, deal_id=deal.pk, stage_id=stage(deal.process, "提案").pk,
                     override_reason="x", at=start + dt.timedelta(days=7, hours=12))
    rows = list(DealStageChange.objects.filter(deal=deal).order_by("entered_at"))
    assert [r.stage.name for r in rows] == ["客户开发", "立项", "提案"]
    assert [r.duration_seconds for r in rows] == [3 * 86400, int(4.5 * 86400), None]
    assert rows[1].duration_days == 4.5 and rows[1].from_stage.name == "客户开发"
    assert deal.stage_entered_at == start + dt.timedelta(days=7, hours=12)
    with pytest.raises(ValidationFailed):  # before the current stay began
        deal_move(actor=org.manager, deal_id=deal.pk, stage_id=stage(deal.process, "立项").pk,
                  at=start + dt.timedelta(days=1))


def test_winning_makes_a_potential_customer_new_then_repeat(org, make_deal, make_customer, process):
    customer = make_customer(org.rep)
    assert customer.status == "potential"
    first = make_deal(org.rep, customer=customer)
    with pytest.raises(Conflict):  # winning passes every remaining key node
        deal_win(actor=org.rep, deal_id=first.pk)
    first = deal_win(actor=org.manager, deal_id=first.pk, override_reason="合同已签，补录流程")
    assert first.semantic == Semantic.WON and first.probability == 100 and first.closed_at
    customer.refresh_from_db()
    assert customer.status == "new" and customer.last_purchase_at == first.closed_at
    second = make_deal(org.rep, customer=customer, code="regional_agent")
    deal_win(actor=org.manager, deal_id=second.pk, override_reason="补录",
             reason_id=DealReason.objects.get(semantic="won", name="客户关系").pk)
    customer.refresh_from_db()
    assert customer.status == "repeat"
    with pytest.raises(Conflict) as exc:  # a won deal stays won
        deal_move(actor=org.manager, deal_id=first.pk, stage_id=process("big_account_sales").stages.first().pk)
    assert exc.value.code == "deal_closed"


def test_a_lost_deal_can_be_reopened(org, make_deal, stage):
    deal = make_deal(org.rep)
    deal = deal_lose(actor=org.rep, deal_id=deal.pk, reason_id=lost_reason().pk)
    deal = deal_move(actor=org.rep, deal_id=deal.pk, stage_id=stage(deal.process, "客户开发").pk)
    assert deal.semantic == Semantic.OPEN and deal.closed_at is None and deal.reason is None


def test_deals_are_visible_exactly_when_their_customer_is(org, make_deal, stage):
    deal = make_deal(org.rep)
    assert Deal.objects.visible_to(org.manager).filter(pk=deal.pk).exists()
    assert Deal.objects.visible_to(org.gm).filter(pk=deal.pk).exists()
    assert not Deal.objects.visible_to(org.rep2).filter(pk=deal.pk).exists()
    for call in (
        lambda: deal_update(actor=org.rep_north, deal_id=deal.pk, data={"name": "x"}),
        lambda: deal_move(actor=org.rep_north, deal_id=deal.pk, stage_id=stage(deal.process, "立项").pk),
        lambda: checklist_tick(actor=org.rep_north, deal_id=deal.pk, item_id=1, done=True),
    ):
        with pytest.raises(NotFound):
            call()
    Customer.objects.filter(pk=deal.customer_id).update(owner=org.rep2)
    assert not Deal.objects.visible_to(org.rep).filter(pk=deal.pk).exists()


def test_checklist_items_of_another_process_are_refused(org, make_deal, process):
    deal = make_deal(org.rep)
    foreign = process("regional_agent").stages.first().checklist.first()
    with pytest.raises(NotFound):
        checklist_tick(actor=org.rep, deal_id=deal.pk, item_id=foreign.pk, done=True)


def test_open_deal_customer_ids_lists_customers_with_a_live_open_deal(org, make_deal):
    open_deal = make_deal(org.rep)
    lost = make_deal(org.rep)
    deal_lose(actor=org.rep, deal_id=lost.pk, reason_id=lost_reason().pk)
    archived = make_deal(org.rep)
    deal_archive(actor=org.rep, deal_id=archived.pk)
    ids = set(open_deal_customer_ids())
    assert ids == {open_deal.customer_id}
    assert Customer.objects.filter(pk__in=open_deal_customer_ids()).count() == 1


def test_only_owner_or_manager_archives(org, make_deal, make_customer):
    customer = make_customer(org.rep)
    deal = make_deal(org.manager, customer=customer)
    from qianke.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        deal_archive(actor=org.rep, deal_id=deal.pk)
    deal_archive(actor=org.manager, deal_id=deal.pk)
    assert not Deal.objects.visible_to(org.manager).filter(pk=deal.pk).exists()
