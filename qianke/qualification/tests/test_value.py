"""Explicit and hidden value (信息提纯): fit score parts, competition and region, present value, API, UI."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qianke.core.errors import PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.core.tests.api_helpers import api_for
from qianke.qualification import selectors
from qianke.qualification.models import CustomerValue, IdealProfile
from qianke.qualification.services import ideal_profile_update, value_update
from qianke.qualification.value import annuity_factor, fit_score, present_value, region_tier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PROFILE = {"industries": ["healthcare", "telecom"], "scales": ["large", "medium"], "natures": ["state_owned"],
           "tier1_provinces": ["浙江省", "上海市"], "tier2_provinces": ["江苏省"],
           "weights": {"industry": 30, "scale": 25, "nature": 15, "region": 30},
           "competition_penalty": 15, "discount_rate": "8"}


def profile(**overrides) -> IdealProfile:
    data = {**PROFILE, **overrides}
    data["discount_rate"] = Decimal(data["discount_rate"])
    return IdealProfile(**data)


def parts(fit):
    return [(p.criterion, p.matched, p.points, p.max) for p in fit.parts]


# --------------------------------------------------------------------------- pure functions


def test_full_match_scores_100_with_every_part():
    fit = fit_score(industry="healthcare", scale="large", nature="state_owned", province="浙江省", profile=profile())
    assert parts(fit) == [("industry", True, 30, 30), ("scale", True, 25, 25), ("nature", True, 15, 15),
                          ("region", True, 30, 30)]
    assert (fit.base, fit.score, fit.points, fit.max_points, fit.adjustments) == (100, 100, 100, 100, [])


def test_partial_match_tier2_region_earns_half():
    fit = fit_score(industry="telecom", scale="small", nature="private", province="江苏", profile=profile())
    assert parts(fit) == [("industry", True, 30, 30), ("scale", False, 0, 25), ("nature", False, 0, 15),
                          ("region", True, 15, 30)]
    assert fit.parts[3].detail == "tier 2"
    assert (fit.base, fit.score) == (45, 45)


def test_unset_criteria_are_left_out_and_the_score_is_scaled():
    # natures empty → max 85; 30 (industry) + 15 (tier-2 region) = 45; 100 × 45 / 85 = 52.9 → 53
    fit = fit_score(industry="healthcare", scale="", nature="", province="江苏省", profile=profile(natures=[]))
    assert [p.criterion for p in fit.parts] == ["industry", "scale", "region"]
    assert (fit.points, fit.max_points, fit.base, fit.score) == (45, 85, 53, 53)


def test_no_profile_set_gives_no_score():
    fit = fit_score(industry="healthcare", scale="large", nature="state_owned", province="浙江省",
                    profile=IdealProfile(), competition_present=True)
    assert fit.score is None and fit.parts == []


def test_competition_penalty_and_floor_at_zero():
    fit = fit_score(industry="telecom", scale="small", nature="private", province="江苏省", profile=profile(),
                    competition_present=True, competitor="竞品甲")
    assert [(a.kind, str(a.label), a.points) for a in fit.adjustments] == [("competition", "Competition: 竞品甲", -15)]
    assert (fit.base, fit.score) == (45, 30)
    fit = fit_score(industry="", scale="medium", nature="", province="", profile=profile(competition_penalty=40),
                    competition_present=True)
    assert (fit.base, fit.score) == (25, 0)


def test_region_tiers():
    tiers = {"tier1": ["浙江省", "上海市"], "tier2": ["江苏省"]}
    assert region_tier("浙江", **tiers) == 1
    assert region_tier("上海", **tiers) == 1
    assert region_tier(" 江苏省 ", **tiers) == 2
    assert region_tier("广东省", **tiers) is None
    assert region_tier("", **tiers) is None
    fit = fit_score(industry="", scale="", nature="", province="广东省", profile=profile())
    assert parts(fit)[3] == ("region", False, 0, 30)


def test_present_value_hand_computed():
    # 1.08^3 = 1.259712; (1 − 1/1.259712) / 0.08 = 2.5770970; × 100 000 = 257 709.70
    assert present_value(annual_value=Decimal(100000), years=3, rate_percent=Decimal(8)) == Decimal("257709.70")
    # (1 − 1.1^−5) / 0.1 = 3.7907868; × 200 000 = 758 157.35
    assert present_value(annual_value=Decimal(200000), years=5, rate_percent=Decimal(10)) == Decimal("758157.35")
    assert present_value(annual_value=Decimal(100000), years=3, rate_percent=Decimal(0)) == Decimal("300000.00")
    assert present_value(annual_value=Decimal(100000), years=0, rate_percent=Decimal(8)) == Decimal("0.00")
    assert present_value(annual_value=None, years=3, rate_percent=Decimal(8)) is None
    assert present_value(annual_value=Decimal(1), years=None, rate_percent=Decimal(8)) is None
    assert round(annuity_factor(rate_percent=Decimal(8), years=3), 4) == Decimal("2.5771")


# --------------------------------------------------------------------------- services and selector

def test_value_update_audits_and_the_selector_combines(org, make_customer):
    ideal_profile_update(actor=org.admin, data={**PROFILE})
    customer = make_customer(org.rep, industry="telecom", scale="small", enterprise_nature="private",
                             province="江苏省")
    value_update(actor=org.rep, customer_id=customer.pk, data={
        "competition_present": True, "competitor": "竞品甲", "growth_potential": "high",
        "industry_position": "major", "bottleneck": "预算审批慢", "estimated_annual_value": "100,000",
        "years_to_realise": 3})
    view = selectors.value_get(user=org.rep, customer_id=customer.pk)
    assert view.exists and view.fit.score == 30 and view.present_value == Decimal("257709.70")
    audit = AuditLog.objects.get(customer_id=customer.pk, object_type="customervalue")
    assert audit.action == AuditLog.Action.CREATE and audit.changes["competitor"] == [None, "竞品甲"]
    value_update(actor=org.rep, customer_id=customer.pk, data={"years_to_realise": 5})
    assert CustomerValue.objects.get(pk=customer.pk).competitor == "竞品甲"  # only the keys sent change


def test_value_validation_names_the_fields(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValidationFailed) as info:
        value_update(actor=org.rep, customer_id=customer.pk, data={
            "growth_potential": "huge", "estimated_annual_value": "lots", "years_to_realise": 21,
            "competition_present": "maybe", "colour": "red"})
    fields = info.value.fields
    assert set(fields) == {"growth_potential", "estimated_annual_value", "years_to_realise", "competition_present",
                           "colour"}
    assert str(fields["years_to_realise"][0]) == "Enter a whole number of years from 0 to 20."
    assert not CustomerValue.objects.exists()


def test_ideal_profile_is_admin_only_and_validated(org):
    with pytest.raises(PermissionDenied):
        ideal_profile_update(actor=org.rep, data={"competition_penalty": 5})
    with pytest.raises(ValidationFailed) as info:
        ideal_profile_update(actor=org.admin, data={"industries": ["moon"], "weights": {"industry": 101},
                                                    "discount_rate": "-1", "tier1_provinces": ["浙江省"],
                                                    "tier2_provinces": ["浙江省"]})
    assert {"industries", "weights.industry", "discount_rate"} <= set(info.value.fields)
    with pytest.raises(ValidationFailed) as info:
        ideal_profile_update(actor=org.admin, data={"tier1_provinces": "浙江省，上海市", "tier2_provinces": ["上海市"]})
    assert set(info.value.fields) == {"tier2_provinces"}
    profile_ = ideal_profile_update(actor=org.admin, data={"tier1_provinces": "浙江省，上海市", "discount_rate": "6.5"})
    assert profile_.tier1_provinces == ["浙江省", "上海市"] and profile_.discount_rate == Decimal("6.50")


# --------------------------------------------------------------------------- API


def put(client, path, body):
    return client.client.put("/api/v1" + path, json.dumps(body), content_type="application/json",
                             headers=client.headers)


def test_api_get_put_value_with_parts(org, make_customer, token_for):
    ideal_profile_update(actor=org.admin, data={**PROFILE})
    customer = make_customer(org.rep, industry="healthcare", scale="large", enterprise_nature="state_owned",
                             province="浙江省")
    client = api_for(org.rep, token_for)
    body = client.get(f"/customers/{customer.pk}/value").json()
    assert body["fit"]["score"] == 100 and body["present_value"] is None and body["competition_present"] is False
    assert not CustomerValue.objects.exists()  # reading creates nothing
    response = put(client, f"/customers/{customer.pk}/value", {
        "competition_present": True, "competitor": "竞品乙", "estimated_annual_value": 200000,
        "years_to_realise": 5})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fit"]["base"] == 100 and body["fit"]["score"] == 85
    assert [(p["criterion"], p["matched"], p["max"]) for p in body["fit"]["parts"]] == [
        ("industry", True, 30), ("scale", True, 25), ("nature", True, 15), ("region", True, 30)]
    assert body["fit"]["adjustments"] == [{"kind": "competition", "label": "Competition: 竞品乙", "points": -15}]
    assert Decimal(body["present_value"]) == Decimal("798542.01")  # 200 000 × (1 − 1.08^−5) / 0.08
    response = put(client, f"/customers/{customer.pk}/value", {"growth_potential": "huge"})
    assert response.status_code == 422
    response = put(client, f"/customers/{customer.pk}/value", {"years_to_realise": 30})
    assert response.status_code == 422 and "years_to_realise" in json.dumps(response.json())


def test_api_value_of_another_reps_customer_is_404(org, make_customer, token_for):
    customer = make_customer(org.rep)
    client = api_for(org.rep_north, token_for)
    assert client.get(f"/customers/{customer.pk}/value").status_code == 404
    assert put(client, f"/customers/{customer.pk}/value", {"competitor": "x"}).status_code == 404
    assert not CustomerValue.objects.exists()


def test_api_ideal_profile_put_is_admin_only(org, token_for):
    body = {**PROFILE, "discount_rate": 8}
    rep = api_for(org.rep, token_for)
    assert rep.get("/settings/ideal-profile").status_code == 200
    assert put(rep, "/settings/ideal-profile", body).status_code == 403
    admin = api_for(org.admin, token_for)
    response = put(admin, "/settings/ideal-profile", body)
    assert response.status_code == 200, response.content
    assert response.json()["weights"] == PROFILE["weights"]
    assert rep.get("/settings/ideal-profile").json()["tier2_provinces"] == ["江苏省"]


# --------------------------------------------------------------------------- UI


def client_for(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_panel_renders_parts_adjustments_and_present_value(org, make_customer):
    ideal_profile_update(actor=org.admin, data={**PROFILE})
    customer = make_customer(org.rep, industry="telecom", scale="small", enterprise_nature="private",
                             province="江苏省")
    value_update(actor=org.rep, customer_id=customer.pk, data={
        "competition_present": True, "competitor": "竞品甲", "estimated_annual_value": 100000, "years_to_realise": 3})
    html = client_for(org.rep).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="value-panel"' in html
    assert 'data-criterion="industry" data-matched="1"' in html and 'data-criterion="scale" data-matched="0"' in html
    assert "15 / 30" in html and "(tier 2)" in html  # the tier-2 region earns half
    assert "Competition: 竞品甲" in html and 'data-score="30"' in html
    assert "¥257,709.70" in html and "PV = V × (1 − (1 + r)^−N) / r" in html
    assert reverse("qualification:value_edit", args=[customer.pk]) in html


def test_panel_needs_one_query(org, make_customer):
    from qianke.qualification.views import value_panel_context

    customer = make_customer(org.rep)
    request = type("R", (), {"user": org.rep})()
    with CaptureQueriesContext(connection) as ctx:
        assert value_panel_context(request, customer)["fit"].score is None
    assert len(ctx.captured_queries) == 1


def test_edit_page_shows_errors_per_field_and_keeps_input(org, make_customer):
    customer = make_customer(org.rep)
    client = client_for(org.rep)
    url = reverse("qualification:value_edit", args=[customer.pk])
    response = client.post(url, {"competitor": "竞品丙", "years_to_realise": "30", "estimated_annual_value": "5000"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_years_to_realise-error"' in html and 'value="竞品丙"' in html and 'value="5000"' in html
    assert not CustomerValue.objects.exists()
    response = client.post(url, {"competition_present": "on", "competitor": "竞品丙", "years_to_realise": "2",
                                 "estimated_annual_value": "5000", "growth_potential": "medium"})
    assert response.status_code == 302
    row = CustomerValue.objects.get(pk=customer.pk)
    assert (row.competitor, row.years_to_realise, row.growth_potential, row.updated_by) == ("竞品丙", 2, "medium",
                                                                                            org.rep)
    assert client_for(org.rep_north).get(url).status_code == 404


def test_ideal_profile_page_is_admin_only_and_linked_from_grading(org):
    url = reverse("qualification:ideal_profile")
    assert client_for(org.rep).get(url).status_code == 403
    admin = client_for(org.admin)
    assert url in admin.get(reverse("qualification:settings")).content.decode()
    response = admin.post(url, {"industries": ["healthcare"], "tier1_provinces": "浙江省, 上海市",
                                "tier2_provinces": "上海市", "weight_industry": "30", "weight_scale": "25",
                                "weight_nature": "15", "weight_region": "30", "competition_penalty": "15",
                                "discount_rate": "8"})
    assert response.status_code == 200 and "A province is in one tier only" in response.content.decode()
    response = admin.post(url, {"industries": ["healthcare"], "tier1_provinces": "浙江省, 上海市",
                                "tier2_provinces": "江苏省", "weight_industry": "40", "weight_scale": "25",
                                "weight_nature": "15", "weight_region": "20", "competition_penalty": "10",
                                "discount_rate": "7.5"})
    assert response.status_code == 302
    saved = IdealProfile.load()
    assert saved.industries == ["healthcare"] and saved.weights["industry"] == 40
    assert saved.discount_rate == Decimal("7.50") and saved.tier2_provinces == ["江苏省"]
