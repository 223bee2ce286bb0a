"""The seed's forms ship as custom-field definitions (migration customers/0003)."""

import importlib

import pytest
from django.apps import apps

from qianke.core.errors import ValidationFailed
from qianke.core.models import AuditLog, CustomFieldDefinition
from qianke.core.services import custom_field_create
from qianke.customers.models import Customer
from qianke.customers.seed_forms import DEMAND_SURVEY, LEAD_CARD, SEED_FIELDS, SEED_KEYS
from qianke.customers.selectors import CustomerFilters, customer_list
from qianke.customers.services import customer_create, customer_update
from qianke.leads.seed import SUPERSEDED_CUSTOM_KEYS  # 客户来源 is CustomerOrigin now (leads/0003)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

migration = importlib.import_module("qianke.customers.migrations.0003_seed_custom_fields")

CUSTOMER_COLUMNS = {f.name for f in Customer._meta.get_fields()}


def seeded(key: str) -> CustomFieldDefinition:
    return CustomFieldDefinition.objects.get(model="customer", key=key)


# ---------------------------------------------------------------------------------------------
# The definitions
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_seed_field_exists_after_migrate():
    stored = {d.key: d for d in CustomFieldDefinition.objects.filter(key__in=SEED_KEYS)}
    assert set(stored) == set(SEED_KEYS)
    for field in DEMAND_SURVEY:
        assert stored[field["key"]].applies_to == "organization"
    for field in LEAD_CARD:
        assert stored[field["key"]].applies_to == "individual"
    for field in SEED_FIELDS:
        d = stored[field["key"]]
        assert (d.label, d.group, d.field_type, d.choices) == (
            field["label"], field["group"], field["field_type"], field.get("choices", []))
        assert d.label_en and d.group_en and (d.active or d.key in SUPERSEDED_CUSTOM_KEYS)


def test_seed_keys_are_unique_and_none_duplicates_a_customer_column():
    assert len(SEED_KEYS) == len(set(SEED_KEYS))
    assert not set(SEED_KEYS) & CUSTOMER_COLUMNS
    # the card's questions that are columns stay columns
    for column in ("name", "address", "phone", "mobile", "fax", "email", "postcode", "district", "gender",
                   "birthday", "industry", "enterprise_nature", "production_mode"):
        assert column in CUSTOMER_COLUMNS and column not in SEED_KEYS


@pytest.mark.django_db
def test_seed_choices_are_the_seeds_words():
    assert seeded("settlement_methods").choices == ["赊销", "现销", "定金式", "预收款式", "其他"]
    assert seeded("ordering_pattern").choices == ["随机", "比较固定", "年度战略供需合同框架", "其他"]
    assert seeded("procurement_policy").choices == ["价格低原则", "质量优先原则", "质量和价格对比原则", "其他"]
    assert seeded("inventory_composition").choices == ["原材料", "半成品", "产成品", "其他/低耗品"]
    assert seeded("purchase_type").choices == ["首次购车", "增购车辆", "报废更新", "租赁"]
    assert seeded("payment_method").choices == ["自筹", "政府采购", "贷款"]
    assert seeded("focus_points").choices == ["品牌", "价格", "外观", "内饰", "配置", "动力及操控性", "服务", "质量",
                                              "其它"]
    assert seeded("initial_grade").choices == ["O级", "A级", "B级", "C级", "D级"]
    assert seeded("first_source").choices[:3] == ["来电", "来店", "老客户续购"]
    assert "114" in seeded("information_source").choices
    assert seeded("budget").unit == "万元" and seeded("output_value").unit == "万元"
    assert seeded("receivables_share").unit == "%" and seeded("receivables_share").max_value == 100
    assert seeded("trade_in").field_type == "boolean"
    assert seeded("expected_purchase_date").field_type == "date"


@pytest.mark.django_db
def test_forms_keep_the_seeds_section_order():
    from qianke.core.custom_fields import definitions_for

    org_keys = [d.key for d in definitions_for(kind="organization") if d.key in SEED_KEYS]
    assert org_keys == [f["key"] for f in DEMAND_SURVEY]
    individual_keys = [d.key for d in definitions_for(kind="individual") if d.key in SEED_KEYS]
    assert individual_keys == [f["key"] for f in LEAD_CARD if f["key"] not in SUPERSEDED_CUSTOM_KEYS]


def test_seed_definitions_pass_the_administrators_validation(make_user):
    """Each shipped definition is one an administrator could have typed in."""
    admin = make_user("admin")
    CustomFieldDefinition.objects.filter(key__in=SEED_KEYS).delete()
    for field in SEED_FIELDS:
        custom_field_create(actor=admin, data=field)
    assert CustomFieldDefinition.objects.filter(key__in=SEED_KEYS).count() == len(SEED_FIELDS)


@pytest.mark.django_db
def test_migration_is_reversible_and_idempotent():
    migration.backwards(apps, None)
    assert not CustomFieldDefinition.objects.filter(key__in=SEED_KEYS).exists()
    migration.forwards(apps, None)
    migration.forwards(apps, None)
    assert CustomFieldDefinition.objects.filter(key__in=SEED_KEYS).count() == len(SEED_KEYS)


@pytest.mark.django_db
def test_migration_keeps_an_administrators_edits():
    CustomFieldDefinition.objects.filter(key="initial_grade").update(label="意向级别", choices=["H级", "A级"])
    migration.forwards(apps, None)
    d = seeded("initial_grade")
    assert (d.label, d.choices) == ("意向级别", ["H级", "A级"])


# ---------------------------------------------------------------------------------------------
# Using them on customers
# ---------------------------------------------------------------------------------------------


def test_organisation_survey_values_are_cleaned(org):
    customer = customer_create(actor=org.rep, data={"name": "华东机械有限公司", "custom": {
        "output_value": "1,200",
        "receivables_share": "35.5",
        "profit_margin": "-3",
        "inventory_composition": "产成品、原材料",
        "settlement_methods": ["预收款式", "赊销"],
        "long_term_supply": "是",
        "annual_purchase_framework": "否",
        "procurement_policy": "质量优先原则",
        "key_managers": "总经理：硕士，高级工程师，行业 20 年",
    }})
    customer.refresh_from_db()
    assert customer.custom == {
        "output_value": 1200,
        "receivables_share": 35.5,
        "profit_margin": -3,
        "inventory_composition": ["原材料", "产成品"],
        "settlement_methods": ["赊销", "预收款式"],
        "long_term_supply": True,
        "annual_purchase_framework": False,
        "procurement_policy": "质量优先原则",
        "key_managers": "总经理：硕士，高级工程师，行业 20 年",
    }
    entry = AuditLog.objects.get(object_type="customer", object_id=customer.pk, action="create")
    assert entry.changes["custom.output_value"] == [None, 1200]


def test_lead_card_values_are_cleaned(org):
    customer = customer_create(actor=org.rep, data={"name": "王建国", "kind": "individual", "custom": {
        "vehicle_usage": "家庭自用,载货",
        "purchase_type": "增购车辆",
        "expected_purchase_date": "2026年12月1日",
        "budget": "12.5",
        "trade_in": "是",
        "focus_points": ["质量", "品牌", "价格"],
        "intended_brand": "全顺",
        "initial_grade": "A级",
    }})
    customer.refresh_from_db()
    assert customer.custom["expected_purchase_date"] == "2026-12-01"
    assert customer.custom["budget"] == 12.5
    assert customer.custom["trade_in"] is True
    assert customer.custom["focus_points"] == ["品牌", "价格", "质量"]
    assert customer.custom["vehicle_usage"] == ["载货", "家庭自用"]


@pytest.mark.parametrize(
    ("kind", "custom", "bad"),
    [
        ("organization", {"receivables_share": "101"}, "receivables_share"),
        ("organization", {"output_value": "很多"}, "output_value"),
        ("organization", {"ordering_pattern": "每周"}, "ordering_pattern"),
        ("organization", {"settlement_methods": "赊销,以物易物"}, "settlement_methods"),
        ("organization", {"long_term_supply": "也许"}, "long_term_supply"),
        ("organization", {"budget": "10"}, "budget"),  # a lead-card field does not apply to organisations
        ("individual", {"initial_grade": "E级"}, "initial_grade"),
        ("individual", {"budget": "-1"}, "budget"),
        ("individual", {"expected_purchase_date": "2026年13月1日"}, "expected_purchase_date"),
        ("individual", {"output_value": "100"}, "output_value"),
    ],
)
def test_invalid_seed_values_are_refused_and_nothing_is_saved(org, kind, custom, bad):
    before = (Customer.objects.count(), AuditLog.objects.count())
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.rep, data={"name": "某客户", "kind": kind, "custom": custom})
    assert f"custom.{bad}" in info.value.fields
    assert (Customer.objects.count(), AuditLog.objects.count()) == before


def test_update_merges_seed_values_and_audits_each(org):
    customer = customer_create(actor=org.rep, data={"name": "李娜", "kind": "individual",
                                                    "custom": {"initial_grade": "C级", "budget": "8"}})
    customer_update(actor=org.rep, customer_id=customer.pk, data={"custom": {"initial_grade": "A级"}})
    customer.refresh_from_db()
    assert customer.custom == {"initial_grade": "A级", "budget": 8}
    entry = AuditLog.objects.filter(object_type="customer", object_id=customer.pk, action="update").get()
    assert entry.changes == {"custom.initial_grade": ["C级", "A级"]}


def test_filterable_seed_fields_filter_the_customer_list(org, make_customer):
    a = make_customer(org.rep, "赵一", kind="individual",
                      custom={"focus_points": ["价格", "服务"], "trade_in": "是", "initial_grade": "A级"})
    b = make_customer(org.rep, "钱二", kind="individual",
                      custom={"focus_points": ["品牌"], "trade_in": "否", "initial_grade": "B级"})
    c = make_customer(org.rep, "孙三公司", custom={"settlement_methods": ["现销"]})

    def names(**custom):
        return {x.pk for x in customer_list(user=org.rep, filters=CustomerFilters(custom=custom)).items}

    assert names(focus_points="价格") == {a.pk}
    assert names(focus_points="品牌") == {b.pk}
    assert names(trade_in="是") == {a.pk}
    assert names(trade_in="否") == {b.pk}
    assert names(initial_grade="B级") == {b.pk}
    assert names(settlement_methods="现销") == {c.pk}
    assert names(settlement_methods="赊销") == set()
