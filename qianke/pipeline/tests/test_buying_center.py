"""Buying center and relationship ladder, current suppliers, value assessment, competitors."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.pipeline import selectors, services
from qianke.pipeline.models import BuyingCenterMember, DealReason, ValueWeights

SCORES = {"share": 4, "value_to_us": 5, "customer_risk": 2, "effort": 2, "deal_risk": 3, "difficulty": 1}


def test_climbing_the_ladder_dates_each_step(org, make_deal, make_contact):
    deal = make_deal(org.rep)
    insider = make_contact(org.rep, deal.customer, "李采购", title="采购经理")
    today = timezone.localdate()
    member = services.buying_member_set(actor=org.rep, deal_id=deal.pk, contact_id=insider.pk,
                                        data={"role": "insider", "relationship": "meeting",
                                              "acquainted_on": "2026-09-01"})
    assert (member.acquainted_on, member.meeting_on, member.approval_on) == (dt.date(2026, 9, 1), today, None)
    member = services.buying_member_set(actor=org.rep, deal_id=deal.pk, contact_id=insider.pk,
                                        data={"role": "insider", "relationship": "alliance"})
    assert member.acquainted_on == dt.date(2026, 9, 1) and member.alliance_on == today
    assert [reached for _v, _l, _on, reached in member.ladder] == [True] * 5
    member = services.buying_member_set(actor=org.rep, deal_id=deal.pk, contact_id=insider.pk,
                                        data={"role": "decision_maker", "relationship": "approval"})
    assert member.trust_on is None and member.alliance_on is None and member.approval_on == today
    assert BuyingCenterMember.objects.filter(deal=deal).count() == 1
    services.buying_member_remove(actor=org.rep, deal_id=deal.pk, contact_id=insider.pk)
    assert not BuyingCenterMember.objects.filter(deal=deal).exists()


def test_buying_center_takes_only_the_customers_contacts(org, make_deal, make_contact, make_customer):
    deal = make_deal(org.rep)
    stranger = make_contact(org.rep, make_customer(org.rep), "外人")
    with pytest.raises(ValidationFailed) as exc:
        services.buying_member_set(actor=org.rep, deal_id=deal.pk, contact_id=stranger.pk, data={"role": "user"})
    assert "contact" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.buying_member_set(actor=org.rep, deal_id=deal.pk, contact_id=stranger.pk,
                                   data={"role": "boss", "relationship": "friends"})
    assert set(exc.value.fields) == {"role", "relationship"}
    with pytest.raises(NotFound):
        services.buying_member_set(actor=org.rep_north, deal_id=deal.pk, contact_id=stranger.pk,
                                   data={"role": "user"})


def test_suppliers_belong_to_the_customer(org, make_customer):
    customer = make_customer(org.rep)
    supplier = services.supplier_save(actor=org.rep, customer_id=customer.pk, data={
        "name": "东方五金", "structure": "主供应商 70%", "problems": "交期不稳", "since_year": 2018,
        "willingness_to_change": "medium"})
    assert selectors.customer_suppliers(user=org.rep, customer_id=customer.pk) == [supplier]
    assert selectors.customer_suppliers(user=org.rep_north, customer_id=customer.pk) == []
    with pytest.raises(ValidationFailed) as exc:
        services.supplier_save(actor=org.rep, customer_id=customer.pk,
                               data={"name": "", "since_year": 1800, "willingness_to_change": "maybe"})
    assert set(exc.value.fields) == {"name", "since_year", "willingness_to_change"}
    with pytest.raises(NotFound):
        services.supplier_delete(actor=org.rep_north, supplier_id=supplier.pk)
    services.supplier_delete(actor=org.rep, supplier_id=supplier.pk)
    assert selectors.customer_suppliers(user=org.rep, customer_id=customer.pk) == []


def test_value_and_difficulty_follow_the_weights(org, make_deal):
    deal = make_deal(org.rep)
    a = services.value_assessment_set(actor=org.rep, deal_id=deal.pk, data={**SCORES, "share_note": "约占三成"})
    # value: (4 + 5 + (6 - 2)) / 3 = 4.33; difficulty: (2 + 3 + 1) / 3 = 2.00
    assert (a.value_score, a.difficulty_score) == (Decimal("4.33"), Decimal("2.00"))
    assert selectors.quadrant(a.value_score, a.difficulty_score)[0] == "develop_first"
    with pytest.raises(PermissionDenied):
        services.value_weights_set(actor=org.manager, data={"share": 3})
    services.value_weights_set(actor=org.admin, data={"share": 3, "customer_risk": 0, "deal_risk": 4})
    a = services.value_assessment_set(actor=org.rep, deal_id=deal.pk, data=SCORES)
    # value: (3·4 + 1·5) / 4 = 4.25; difficulty: (2 + 4·3 + 1) / 6 = 2.50
    assert (a.value_score, a.difficulty_score) == (Decimal("4.25"), Decimal("2.50"))
    with pytest.raises(ValidationFailed):
        services.value_weights_set(actor=org.admin, data={"effort": 0, "deal_risk": 0, "difficulty": 0})
    assert ValueWeights.load().effort == 1
    with pytest.raises(ValidationFailed) as exc:
        services.value_assessment_set(actor=org.rep, deal_id=deal.pk, data={**SCORES, "share": 6})
    assert list(exc.value.fields) == ["share"]


@pytest.mark.parametrize(("value", "difficulty", "key"), [
    (4, 2, "develop_first"), (4, 4, "invest"), (2, 2, "opportunistic"), (2, 4, "defer"), (3, 3, "develop_first")])
def test_quadrants(value, difficulty, key):
    assert selectors.quadrant(value, difficulty)[0] == key


def test_competitors_on_deals_and_win_loss(org, make_deal):
    rival = services.competitor_save(actor=org.rep, data={"name": "东方电子", "products": "MES", "prices": "低 10%"})
    other = services.competitor_save(actor=org.rep, data={"name": "华南软件"})
    with pytest.raises(ValidationFailed):
        services.competitor_save(actor=org.rep, data={"name": "东方电子"})
    won, lost, open_ = make_deal(org.rep), make_deal(org.rep), make_deal(org.rep)
    for deal in (won, lost, open_):
        services.deal_competitor_set(actor=org.rep, deal_id=deal.pk, competitor_id=rival.pk,
                                     data={"their_rep": "王经理", "satisfaction": 3})
    services.deal_competitor_set(actor=org.rep, deal_id=lost.pk, competitor_id=other.pk, data={})
    services.deal_win(actor=org.manager, deal_id=won.pk, override_reason="t")
    services.deal_lose(actor=org.rep, deal_id=lost.pk,
                       reason_id=DealReason.objects.get(semantic="lost", name="竞争对手胜出").pk)
    services.deal_competitor_set(actor=org.rep, deal_id=lost.pk, competitor_id=other.pk, data={"took_the_deal": True})
    services.deal_competitor_set(actor=org.rep, deal_id=lost.pk, competitor_id=rival.pk, data={"took_the_deal": True})
    assert [(d.competitor.name, d.took_the_deal) for d in selectors.deal_competitors(deal=lost)] == [
        ("东方电子", True), ("华南软件", False)]
    records = {r.name: r for r in selectors.competitor_win_loss(user=org.rep)}
    r = records["东方电子"]
    assert (r.deals, r.open, r.won, r.lost, r.lost_to, r.win_rate) == (3, 1, 1, 1, 1, 0.5)
    assert (records["华南软件"].lost, records["华南软件"].lost_to) == (1, 0)
    assert selectors.competitor_win_loss(user=org.rep_north) == []
    with pytest.raises(ValidationFailed):
        services.deal_competitor_set(actor=org.rep, deal_id=won.pk, competitor_id=rival.pk, data={"satisfaction": 9})


def test_procurement_stage_is_a_deal_field(org, make_deal):
    deal = make_deal(org.rep)
    deal = services.deal_update(actor=org.rep, deal_id=deal.pk, data={"procurement_stage": "D"})
    assert deal.procurement_stage == "d"
    with pytest.raises(ValidationFailed):
        services.deal_update(actor=org.rep, deal_id=deal.pk, data={"procurement_stage": "g"})


def test_api_for_buying_center_value_and_competitors(org, api, make_deal, make_contact):
    deal = make_deal(org.rep)
    contact = make_contact(org.rep, deal.customer, "赵总", title="总经理")
    call = api(org.rep)
    response = call("put", f"/deals/{deal.pk}/buying-center/{contact.pk}",
                    {"role": "decision_maker", "relationship": "approval"})
    assert response.status_code == 200 and response.json()["approval_on"] == str(timezone.localdate())
    assert call("get", f"/deals/{deal.pk}/buying-center").json()[0]["contact"]["name"] == "赵总"
    assert call("get", f"/deals/{deal.pk}/value-assessment").status_code == 404
    body = call("put", f"/deals/{deal.pk}/value-assessment", SCORES).json()
    assert body["value_score"] == "4.33" and body["quadrant"] == "develop_first"
    assert call("put", f"/deals/{deal.pk}/value-assessment", {**SCORES, "share": 0}).status_code == 422
    assert call("get", "/value-weights").json()["share"] == 1
    assert call("put", "/value-weights", {"share": 2}).status_code == 403
    competitor = call("post", "/competitors", {"name": "北方仪器", "channels": "经销商"}).json()
    response = call("put", f"/deals/{deal.pk}/competitors/{competitor['id']}", {"their_rep": "孙", "satisfaction": 4})
    assert response.status_code == 200 and response.json()["competitor"]["name"] == "北方仪器"
    assert call("get", "/deal-reports/competitors").json()[0]["deals"] == 1
    matrix = call("get", "/deal-reports/value-matrix").json()
    assert matrix[0]["deal_id"] == deal.pk and matrix[0]["quadrant"] == "develop_first"
    supplier = call("post", f"/customers/{deal.customer_id}/suppliers", {"name": "老供应商"}).json()
    assert call("get", f"/customers/{deal.customer_id}/suppliers").json()[0]["id"] == supplier["id"]
    assert call("delete", f"/customers/{deal.customer_id}/suppliers/{supplier['id']}").status_code == 204
    assert api(org.rep_north)("get", f"/deals/{deal.pk}/buying-center").status_code == 404
    assert call("delete", f"/deals/{deal.pk}/buying-center/{contact.pk}").status_code == 204
    assert call("delete", f"/deals/{deal.pk}/competitors/{competitor['id']}").status_code == 204


def test_deal_page_forms(client, org, make_deal, make_contact):
    deal = make_deal(org.rep)
    contact = make_contact(org.rep, deal.customer, "钱工", title="技术部长")
    client.force_login(org.rep)
    client.post(reverse("pipeline:member_save", args=[deal.pk]),
                {"contact": contact.pk, "role": "technical", "relationship": "acquainted"})
    client.post(reverse("pipeline:supplier_save", args=[deal.pk]), {"name": "旧供应商甲", "willingness_to_change": "high"})
    client.post(reverse("pipeline:competitor_link", args=[deal.pk]), {"new_competitor": "对手乙", "their_rep": "周"})
    response = client.post(reverse("pipeline:value_edit", args=[deal.pk]), {**SCORES, "effort_note": "需三次拜访"})
    assert response.status_code == 302
    html = client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    for text in ("钱工", "旧供应商甲", "对手乙", "需三次拜访", 'id="buying-center-table"'):
        assert text in html, text
    response = client.post(reverse("pipeline:value_edit", args=[deal.pk]), {**SCORES, "share": ""})
    assert response.status_code == 200 and response.context["form"].errors
    html = client.get(reverse("pipeline:reports")).content.decode()
    assert 'id="matrix-chart"' in html and "对手乙" in html


def test_a_competitor_entered_on_a_refused_link_is_not_kept(client, org, make_deal):
    from qianke.pipeline.models import Competitor

    deal = make_deal(org.rep)
    client.force_login(org.rep)
    response = client.post(reverse("pipeline:competitor_link", args=[deal.pk]),
                           {"new_competitor": "对手丙", "satisfaction": "9"})
    assert response.status_code == 302
    assert not Competitor.objects.filter(name="对手丙").exists()
    assert selectors.deal_competitors(deal=deal) == []
    client.post(reverse("pipeline:competitor_link", args=[deal.pk]), {"new_competitor": "对手丙", "satisfaction": "4"})
    assert [(d.competitor.name, d.satisfaction) for d in selectors.deal_competitors(deal=deal)] == [("对手丙", 4)]


def test_form_errors_on_the_deal_page_name_the_field(client, org, make_deal):
    deal = make_deal(org.rep)
    client.force_login(org.rep)
    response = client.post(reverse("pipeline:supplier_save", args=[deal.pk]), {"name": "旧供应商", "since_year": "1200"},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    texts = [str(m) for m in response.context["messages"]]
    assert any(t.startswith("Supplying since (year): ") for t in texts), texts


def test_a_supplier_is_removed_only_under_its_own_customer(org, make_customer):
    mine, other = make_customer(org.rep, "供应商甲方"), make_customer(org.rep, "供应商乙方")
    supplier = services.supplier_save(actor=org.rep, customer_id=mine.pk, data={"name": "老供应商"})
    with pytest.raises(NotFound):
        services.supplier_delete(actor=org.rep, supplier_id=supplier.pk, customer_id=other.pk)
    services.supplier_delete(actor=org.rep, supplier_id=supplier.pk, customer_id=mine.pk)
    assert selectors.customer_suppliers(user=org.rep, customer_id=mine.pk) == []


def test_only_managers_change_a_competitor_of_the_shared_list(org):
    rival = services.competitor_save(actor=org.rep, data={"name": "西部电子"})
    with pytest.raises(PermissionDenied):
        services.competitor_save(actor=org.rep, competitor_id=rival.pk, data={"active": False})
    assert services.competitor_save(actor=org.manager, competitor_id=rival.pk, data={"active": False}).active is False
