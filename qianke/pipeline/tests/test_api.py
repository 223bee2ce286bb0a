"""The deals API: CRUD, the move endpoint's 409, overrides, visibility, checklist, processes."""

from qianke.pipeline.models import DealReason, DealStageChange


def test_processes_are_readable_with_stages_and_checklists(org, api, process):
    call = api(org.rep)
    body = call("get", "/processes").json()
    assert [p["code"] for p in body] == ["big_account_development", "big_account_sales", "regional_agent"]
    sales = call("get", f"/processes/{process('big_account_sales').pk}").json()
    assert [s["name"] for s in sales["stages"]][:2] == ["客户开发", "立项"]
    assert sales["stages"][1]["required_fields"] == ["amount", "expected_close_date"]
    assert sales["stages"][0]["checklist"][0]["required"] is True
    assert call("get", "/processes/999999").status_code == 404
    reasons = call("get", "/deal-reasons?semantic=lost").json()
    assert reasons and all(r["semantic"] == "lost" for r in reasons)


def test_deal_crud(org, api, make_customer, process):
    customer = make_customer(org.rep)
    call = api(org.rep)
    response = call("post", "/deals", {"name": "ERP 项目", "customer": customer.pk,
                                       "process": process("big_account_sales").pk, "amount": "500000",
                                       "expected_close_date": "2027-03-31", "purchase_window": 6})
    assert response.status_code == 201, response.content
    deal = response.json()
    assert deal["stage"]["name"] == "客户开发" and deal["probability"] == 10 and deal["owner"]["id"] == org.rep.pk
    assert deal["customer"]["id"] == customer.pk and deal["amount"] == "500000.00"
    response = call("patch", f"/deals/{deal['id']}", {"next_step": "约见采购经理", "next_step_due": "2027-01-05"})
    assert response.status_code == 200 and response.json()["next_step"] == "约见采购经理"
    response = call("patch", f"/deals/{deal['id']}", {"stage": 1})
    assert response.status_code == 422  # the stage changes only through /move
    response = call("post", "/deals", {"name": "", "customer": customer.pk, "process": 999999})
    assert response.status_code == 422 and {"name", "process"} <= set(response.json()["fields"])
    listed = call("get", f"/deals?customer={customer.pk}").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == deal["id"]
    assert call("get", "/deals?semantic=won").json()["count"] == 0
    assert call("get", "/deals?q=ERP").json()["count"] == 1
    assert call("delete", f"/deals/{deal['id']}").status_code == 204
    assert call("get", f"/deals/{deal['id']}").status_code == 404


def test_move_answers_409_with_the_unmet_items_then_moves_once_ticked(org, api, make_deal, stage):
    deal = make_deal(org.rep)
    call = api(org.rep)
    target = stage(deal.process, "立项")
    response = call("post", f"/deals/{deal.pk}/move", {"stage": target.pk})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "key_node_unmet" and body["may_override"] is False
    assert body["unmet"][0]["kind"] == "item" and body["unmet"][0]["stage_name"] == "客户开发"
    item_id = body["unmet"][0]["id"]
    checklist = call("put", f"/deals/{deal.pk}/checklist/{item_id}", {"done": True}).json()
    assert checklist[0]["current"] is True and checklist[0]["rows"][0]["done"] is True
    response = call("post", f"/deals/{deal.pk}/move", {"stage": target.pk})
    assert response.status_code == 200 and response.json()["stage"]["name"] == "立项"
    history = call("get", f"/deals/{deal.pk}/history").json()
    assert [h["stage"]["name"] for h in history] == ["客户开发", "立项"]
    assert history[0]["duration_seconds"] is not None and history[1]["left_at"] is None


def test_a_manager_overrides_through_the_api_and_it_is_recorded(org, api, make_deal, stage):
    deal = make_deal(org.rep)
    target = stage(deal.process, "提案")
    response = api(org.rep)("post", f"/deals/{deal.pk}/move", {"stage": target.pk, "override_reason": "急单"})
    assert response.status_code == 409
    response = api(org.manager)("post", f"/deals/{deal.pk}/move", {"stage": target.pk})
    assert response.status_code == 409 and response.json()["may_override"] is True
    response = api(org.manager)("post", f"/deals/{deal.pk}/move", {"stage": target.pk, "override_reason": "急单"})
    assert response.status_code == 200
    change = DealStageChange.objects.get(deal=deal, stage=target)
    assert change.override_reason == "急单" and change.actor == org.manager and len(change.unmet) == 4
    history = api(org.rep)("get", f"/deals/{deal.pk}/history").json()
    assert history[-1]["override_reason"] == "急单" and history[-1]["unmet"][0]["stage_name"] == "客户开发"


def test_win_and_lose_endpoints(org, api, make_deal):
    deal = make_deal(org.rep)
    lost = DealReason.objects.get(semantic="lost", name="竞争对手胜出")
    response = api(org.rep)("post", f"/deals/{deal.pk}/lose", {})
    assert response.status_code == 422 and "reason" in response.json()["fields"]
    response = api(org.rep)("post", f"/deals/{deal.pk}/lose", {"reason": lost.pk, "reason_note": "对手 A"})
    assert response.status_code == 200 and response.json()["semantic"] == "lost"
    assert response.json()["reason"]["name"] == "竞争对手胜出"
    other = make_deal(org.rep)
    response = api(org.manager)("post", f"/deals/{other.pk}/win", {"override_reason": "补录"})
    assert response.status_code == 200 and response.json()["semantic"] == "won"
    other.customer.refresh_from_db()
    assert other.customer.status == "new"


def test_deals_follow_customer_visibility_in_the_api(org, api, make_deal):
    deal = make_deal(org.rep)
    north = api(org.rep_north)
    for method, path, body in (("get", f"/deals/{deal.pk}", None), ("patch", f"/deals/{deal.pk}", {"name": "x"}),
                               ("post", f"/deals/{deal.pk}/move", {"stage": deal.stage_id}),
                               ("get", f"/deals/{deal.pk}/history", None),
                               ("get", f"/deals/{deal.pk}/checklist", None),
                               ("delete", f"/deals/{deal.pk}", None)):
        assert north(method, path, body).status_code == 404, (method, path)
    assert north("get", "/deals").json()["count"] == 0
    assert api(org.manager)("get", "/deals").json()["count"] == 1
    assert api(org.director)("get", f"/deals/{deal.pk}").status_code == 200


def test_report_endpoints(org, api, make_deal, process):
    from django.utils import timezone

    make_deal(org.rep, amount="100000", expected_close_date=timezone.localdate())
    make_deal(org.rep_north, amount="50000", expected_close_date=timezone.localdate())
    body = api(org.manager)("get", "/deal-reports/forecast?months=3").json()
    assert len(body["months"]) == 3 and body["total"]["weighted"] == "10000.00"
    assert body["by_owner"][0]["name"] == "rep_east" and body["by_team"][0]["name"] == "华东组"
    assert api(org.gm)("get", "/deal-reports/forecast").json()["total"]["weighted"] == "15000.00"
    body = api(org.gm)("get", f"/deal-reports/funnel?process={process('big_account_sales').pk}").json()
    assert body["cohort"] == 2 and body["steps"][0]["reached"] == 2 and body["steps"][0]["conversion"] == 0.0
    assert api(org.gm)("get", "/deal-reports/funnel?process=999999").status_code == 404
    body = api(org.gm)("get", "/deal-reports/stalled").json()
    assert body["count"] == 0 and body["items"] == []
    rows = api(org.gm)("get", "/deal-reports/forecast-vs-actual?months=2").json()
    assert len(rows) == 2 and rows[-1]["actual"] == "0.00"
