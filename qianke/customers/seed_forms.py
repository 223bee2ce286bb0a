"""The seed's registration forms as custom-field definitions (PRODUCT.md §2, seed 000).

Only questions that are not already columns of Customer are here: name, address, phone, mobile,
fax, e-mail, postcode, district, enterprise nature, industry, production mode, gender and birthday
are columns; the salesperson is the owner, the card number the customer code, the created date
`created_at`, and the 联系人 of the survey a Contact.

Migration customers/0003_seed_custom_fields creates these rows (get_or_create by model and key),
so an administrator's later edits of a label or an option list are kept.
"""

from __future__ import annotations

from typing import Any

ORGANIZATION = "organization"
INDIVIDUAL = "individual"

# Enterprise natures exactly as the survey lists them (一、基本信息 4、企业性质).
ENTERPRISE_NATURES = ["国企", "央企", "外资", "民营", "其他"]


def _field(key: str, label: str, label_en: str, field_type: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "label_en": label_en, "field_type": field_type, **extra}


def _percent(key: str, label: str, label_en: str, *, minimum: int = 0, help_text: str = "") -> dict[str, Any]:
    return _field(key, label, label_en, "number", unit="%", min_value=minimum, max_value=100, help_text=help_text)


def _section(applies_to: str, group: str, group_en: str, fields: list[dict[str, Any]]):
    return [{"model": "customer", "applies_to": applies_to, "group": group, "group_en": group_en, **field}
            for field in fields]


# ---------------------------------------------------------------------------------------------
# 潜在客户需求调查表 (B2B demand survey) — organisations
# ---------------------------------------------------------------------------------------------

DEMAND_SURVEY: list[dict[str, Any]] = [
    *_section(ORGANIZATION, "基本信息", "Basic information", [
        _field("production_flow", "生产/加工方式描述（基本生产流程）", "Production process (basic flow)",
               "longtext"),
    ]),
    *_section(ORGANIZATION, "经营情况", "Business situation", [
        _field("output_value", "产值/销售额", "Output value / sales", "number", unit="万元", min_value=0),
        _field("product_output", "产品产量", "Product output", "longtext",
               help_text="按产品列出，如：甲产品 5000 吨/年"),
        _percent("receivables_share", "应收账款近三月占流动资产的平均比例",
                 "Receivables: 3-month average share of current assets"),
        _field("receivables_turnover_year_end", "应收账款周转率（上年末）",
               "Receivables turnover (end of last year)", "number", unit="次", min_value=0),
        _field("receivables_turnover_last_month", "应收账款周转率（上月）",
               "Receivables turnover (last month)", "number", unit="次", min_value=0),
        _percent("inventory_share", "存货近三月占流动资产的平均比例",
                 "Inventory: 3-month average share of current assets"),
        _field("inventory_turnover_year_end", "存货周转率（上年末）", "Inventory turnover (end of last year)",
               "number", unit="次", min_value=0),
        _field("inventory_turnover_last_month", "存货周转率（上月）", "Inventory turnover (last month)",
               "number", unit="次", min_value=0),
        _field("inventory_composition", "近三月存货构成", "Inventory composition (last 3 months)", "multichoice",
               choices=["原材料", "半成品", "产成品", "其他/低耗品"], filterable=True),
        _percent("profit_margin", "近三月利润率平均值", "Profit margin (3-month average)", minimum=-100),
        _percent("operating_margin", "近三月营业利润率平均值", "Operating margin (3-month average)",
                 minimum=-100),
        _percent("cost_share_material_energy", "材料和动力性成本占比", "Cost share: materials and energy"),
        _percent("cost_share_direct_labour", "直接人工费成本占比", "Cost share: direct labour"),
        _percent("cost_share_depreciation", "折旧费成本占比", "Cost share: depreciation"),
    ]),
    *_section(ORGANIZATION, "采购层面", "Procurement", [
        _field("supplier_nature", "主要供应商的企业性质", "Main suppliers' enterprise nature", "multichoice",
               choices=ENTERPRISE_NATURES, filterable=True),
        _field("purchasing_pattern", "采购方式", "Purchasing pattern", "choice",
               choices=["随机", "集中批量", "最佳采购批量", "其他"], filterable=True),
        _field("long_term_supply", "保持较长的供需关系", "Long-term supply relationships", "boolean",
               filterable=True),
        _field("annual_purchase_framework", "年度战略采购合同框架", "Annual strategic purchasing framework contract",
               "boolean", filterable=True),
        _field("purchasing_notes", "采购规律（其他）", "Purchasing pattern (other)", "text"),
        _field("procurement_policy", "采购政策", "Procurement policy", "choice",
               choices=["价格低原则", "质量优先原则", "质量和价格对比原则", "其他"], filterable=True),
        _field("procurement_policy_notes", "采购政策说明（如何判定质量和价格？）",
               "Procurement policy notes (how quality and price are weighed)", "longtext"),
    ]),
    *_section(ORGANIZATION, "销售层面", "Sales", [
        _field("customer_nature", "主要客户的企业性质", "Main customers' enterprise nature", "multichoice",
               choices=ENTERPRISE_NATURES, filterable=True),
        _field("ordering_pattern", "客户下订单的规律", "Customers' ordering pattern", "choice",
               choices=["随机", "比较固定", "年度战略供需合同框架", "其他"], filterable=True),
        _field("pricing_method", "定价方式", "Pricing method", "choice",
               choices=["产品近期统一价格", "按客户不同商定", "其他方式"], filterable=True),
        _field("price_authority", "谁有权决定价格", "Who sets prices", "text"),
        _field("settlement_methods", "结算方式", "Settlement methods", "multichoice",
               choices=["赊销", "现销", "定金式", "预收款式", "其他"], filterable=True),
        _field("sales_policy_notes", "销售政策（其他）", "Sales policy (other)", "text"),
    ]),
    *_section(ORGANIZATION, "组织系统层面", "Organisation", [
        _field("org_chart", "架构图", "Organisation chart", "longtext", help_text="文字描述或附件位置"),
        _field("department_functions", "各部门主要职能简介", "Departments' main functions", "longtext"),
        _field("key_managers", "主要管理者状况", "Key managers", "longtext",
               help_text="教育背景、专业职称、行业/企业年限"),
    ]),
]

# ---------------------------------------------------------------------------------------------
# 潜客信息卡 (dealership lead card) — individuals
# ---------------------------------------------------------------------------------------------

LEAD_CARD: list[dict[str, Any]] = [
    *_section(INDIVIDUAL, "客户基本资料", "Customer details", [
        _field("job_title", "职务", "Job title", "text", max_length=100),
    ]),
    *_section(INDIVIDUAL, "客户来源", "Source", [
        _field("structural_source", "结构来源", "Structural source", "choice",
               choices=["展厅客源", "续购客源", "介绍客源", "外拓客源"], filterable=True),
        _field("first_source", "第一来源", "First source", "choice",
               choices=["来电", "来店", "老客户续购", "老客户介绍", "零服推荐", "亲友介绍", "中介", "市场活动",
                        "外拓宣传", "总部潜客", "数据库"], filterable=True),
        _field("information_source", "信息来源", "Information source", "multichoice",
               choices=["报纸", "电视", "网络", "114", "电台", "杂志", "介绍", "海报", "路过", "外拓宣传",
                        "市场活动", "户外广告"], filterable=True),
    ]),
    *_section(INDIVIDUAL, "现有车型情况", "Current vehicle", [
        _field("current_model", "现有车型", "Current model", "text", max_length=100),
        _field("current_model_evaluation", "现有车辆评价", "Evaluation of the current vehicle", "longtext"),
        _field("purchase_type", "购车形态", "Purchase type", "choice",
               choices=["首次购车", "增购车辆", "报废更新", "租赁"], filterable=True),
    ]),
    *_section(INDIVIDUAL, "生活形态", "Profile and plans", [
        _field("customer_type", "客户类型", "Customer type", "choice", choices=["个人", "单位"], filterable=True),
        _field("vehicle_usage", "车辆用途", "Vehicle usage", "multichoice",
               choices=["载货", "通勤接送", "商务接待", "客货两用", "家庭自用", "改装"], filterable=True),
        _field("payment_method", "购买方式", "Payment", "choice", choices=["自筹", "政府采购", "贷款"],
               filterable=True),
        _field("expected_purchase_date", "预计购车时间", "Expected purchase date", "date"),
        _field("budget", "购车预算", "Budget", "number", unit="万元", min_value=0),
        _field("trade_in", "是否置换车", "Trade-in", "boolean", filterable=True),
        _field("configuration_needs", "车辆配置要求", "Configuration needs", "longtext"),
    ]),
    *_section(INDIVIDUAL, "新车需求", "New-vehicle needs", [
        _field("focus_points", "车辆关注点", "Focus points", "multichoice",
               choices=["品牌", "价格", "外观", "内饰", "配置", "动力及操控性", "服务", "质量", "其它"],
               filterable=True),
        _field("intended_brand", "意向品牌", "Intended brand", "choice", choices=["皮卡", "轻卡", "全顺", "SUV"],
               filterable=True),
        _field("intended_model", "意向车型", "Intended model", "text", max_length=100),
        _field("initial_grade", "客户初始级别", "Initial level", "choice",
               choices=["O级", "A级", "B级", "C级", "D级"], filterable=True),
    ]),
]

SEED_FIELDS: list[dict[str, Any]] = [*DEMAND_SURVEY, *LEAD_CARD]
# The forms' question order, with gaps of 10 so administrators can slot their own fields in between.
for _position, _definition in enumerate(SEED_FIELDS, start=1):
    _definition["order"] = 100 + 10 * _position
SEED_KEYS: list[str] = [f["key"] for f in SEED_FIELDS]


def create_seed_fields(definition_model) -> int:
    """Create the definitions missing from `definition_model` (a model class, historical or not).

    Existing rows with the same (model, key) are left as they are. Returns how many were created.
    """
    created = 0
    for field in SEED_FIELDS:
        defaults = {k: v for k, v in field.items() if k not in ("model", "key")}
        _, was_created = definition_model.objects.get_or_create(model=field["model"], key=field["key"],
                                                                defaults=defaults)
        created += was_created
    return created


def delete_seed_fields(definition_model) -> int:
    deleted, _ = definition_model.objects.filter(model="customer", key__in=SEED_KEYS).delete()
    return deleted
