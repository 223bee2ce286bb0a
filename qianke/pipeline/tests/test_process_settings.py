"""Administrators define sales processes: stages, key nodes, checklists, reasons (services, API, pages)."""

import pytest
from django.urls import reverse

from qianke.core.errors import Conflict, PermissionDenied, ValidationFailed
from qianke.pipeline import services
from qianke.pipeline.models import ChecklistItem, DealReason, Process, Stage


def test_an_administrator_builds_a_process_that_deals_then_follow(org, make_customer):
    with pytest.raises(PermissionDenied):
        services.process_save(actor=org.manager, data={"name": "展会跟进流程"})
    process = services.process_save(actor=org.admin, data={"name": "展会跟进流程", "kind": "展会"})
    first = services.stage_save(actor=org.admin, process_id=process.pk, data={
        "name": "展会接洽", "probability": 10, "normal_days": 7, "key_node": "留下需求",
        "required_fields": ["next_step"]})
    services.stage_save(actor=org.admin, process_id=process.pk, data={"name": "报价", "probability": 50})
    services.stage_save(actor=org.admin, process_id=process.pk, data={"name": "签约", "semantic": "won",
                                                                      "probability": 100})
    services.stage_save(actor=org.admin, process_id=process.pk, data={"name": "放弃", "semantic": "lost"})
    item = services.checklist_item_save(actor=org.admin, stage_id=first.pk, data={"text": "名片已收集",
                                                                                   "required": True})
    assert [s.order for s in process.stages.order_by("order")] == [10, 20, 30, 40]
    deal = services.deal_create(actor=org.rep, data={"name": "展会商机", "customer": make_customer(org.rep).pk,
                                                      "process": process.pk})
    assert deal.stage == first and deal.probability == 10
    second = Stage.objects.get(process=process, name="报价")
    with pytest.raises(Conflict) as exc:
        services.deal_move(actor=org.rep, deal_id=deal.pk, stage_id=second.pk)
    assert {u["field"] or u["text"] for u in exc.value.extra["unmet"]} == {"名片已收集", "next_step"}
    services.checklist_tick(actor=org.rep, deal_id=deal.pk, item_id=item.pk, done=True)
    services.deal_update(actor=org.rep, deal_id=deal.pk, data={"next_step": "寄报价单"})
    assert services.deal_move(actor=org.rep, deal_id=deal.pk, stage_id=second.pk).stage == second
    # Renaming is free; the type of a stage with deals is not; a used stage cannot be deleted.
    services.stage_save(actor=org.admin, process_id=process.pk, stage_id=second.pk, data={"name": "商务报价"})
    with pytest.raises(ValidationFailed) as exc:
        services.stage_save(actor=org.admin, process_id=process.pk, stage_id=second.pk, data={"semantic": "won"})
    assert "semantic" in exc.value.fields
    with pytest.raises(Conflict):
        services.stage_delete(actor=org.admin, stage_id=first.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.stage_save(actor=org.admin, process_id=process.pk, data={
            "name": "签约", "order": 10, "probability": 120, "required_fields": ["colour"]})
    assert set(exc.value.fields) == {"name", "order", "probability", "required_fields"}


def test_reasons_are_configurable(org):
    reason = services.reason_save(actor=org.admin, data={"name": "交期太长", "semantic": "lost"})
    assert reason.active
    services.reason_save(actor=org.admin, reason_id=reason.pk, data={"active": False})
    assert not DealReason.objects.get(pk=reason.pk).active
    with pytest.raises(ValidationFailed):
        services.reason_save(actor=org.admin, data={"name": "交期太长", "semantic": "maybe"})


def test_process_api_is_for_administrators(org, api):
    response = api(org.rep)("post", "/processes", {"name": "X"})
    assert response.status_code == 403
    call = api(org.admin)
    process = call("post", "/processes", {"name": "续约流程"}).json()
    body = call("post", f"/processes/{process['id']}/stages", {"name": "续约评估", "probability": 30}).json()
    stage_id = body["stages"][0]["id"]
    item = call("post", f"/stages/{stage_id}/checklist", {"text": "确认续约意向", "required": True})
    assert item.status_code == 201 and item.json()["required"] is True
    body = call("patch", f"/processes/{process['id']}/stages/{stage_id}", {"required_fields": ["amount"]}).json()
    assert body["stages"][0]["required_fields"] == ["amount"]
    assert call("delete", f"/stages/{stage_id}/checklist/{item.json()['id']}").status_code == 204
    assert call("delete", f"/processes/{process['id']}/stages/{stage_id}").status_code == 204
    assert call("patch", f"/processes/{process['id']}", {"active": False}).json()["active"] is False
    assert call("post", "/deal-reasons", {"name": "资金到位", "semantic": "won"}).status_code == 201


def test_settings_pages(client, org):
    client.force_login(org.rep)
    assert client.get(reverse("pipeline:process_settings")).status_code == 403
    client.force_login(org.admin)
    html = client.get(reverse("pipeline:process_settings")).content.decode()
    assert "大客户销售流程" in html and "竞争对手胜出" in html
    assert reverse("pipeline:process_settings") in client.get(reverse("home")).content.decode()
    response = client.post(reverse("pipeline:process_settings"), {"name": "新流程"})
    process = Process.objects.get(name="新流程")
    assert response.url == reverse("pipeline:process_edit", args=[process.pk])
    url = reverse("pipeline:process_edit", args=[process.pk])
    client.post(url, {"action": "stage", "name": "初访", "probability": "20", "normal_days": "10",
                      "required_fields": ["amount", "budget"]})
    stage = Stage.objects.get(process=process, name="初访")
    assert stage.required_fields == ["amount", "budget"] and stage.normal_days == 10
    client.post(url, {"action": "item", "stage": stage.pk, "text": "拜访纪要", "required": "1"})
    assert ChecklistItem.objects.get(stage=stage).required
    html = client.get(url).content.decode()
    assert "初访" in html and "拜访纪要" in html
