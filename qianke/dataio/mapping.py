"""Which column of the file goes into which field: the catalogue of targets and header recognition.

A mapping is {target key: column header}. Targets are customer fields (`name`, `mobile`…),
`contact.<field>` and `activity.<field>` for the contact and the follow-up a row may carry, and
`custom.<key>` for custom fields. Headers are recognised in Chinese and English, with or without
spaces, brackets, a required-marker `*` or a unit in brackets (预算（万元）).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qianke.activities.models import Activity, ActivityKind
from qianke.core.custom_fields import definitions_for
from qianke.core.errors import ValidationFailed
from qianke.core.normalize import to_halfwidth
from qianke.customers import choices
from qianke.customers.models import Contact, Customer

_NOT_WORD = re.compile(r"[\s*＊:：_\-./（）()\[\]【】]+")
_UNIT = re.compile(r"[（(][^）)]*[）)]$")


def header_key(text: str) -> str:
    """欢迎 * 客户名称（必填） → 客户名称; 'Mobile Phone' → mobilephone."""
    text = to_halfwidth(str(text or "")).strip().lower()
    text = _UNIT.sub("", text) or text
    return _NOT_WORD.sub("", text)


@dataclass(frozen=True)
class Target:
    key: str
    label: Any  # lazy translation
    synonyms: tuple[str, ...] = ()
    choices: type | None = None  # a TextChoices class: the cell may hold a value or a label


CUSTOMER_TARGETS = [
    Target("name", gettext_lazy("Customer name"),
           ("客户名称", "客户名", "公司名称", "公司名", "企业名称", "单位名称", "名称", "客户", "姓名", "客户姓名",
            "name", "company", "companyname", "customer", "customername", "organisation", "organization")),
    Target("code", gettext_lazy("Customer code (existing customer)"),
           ("客户编号", "客户代码", "编号", "卡号", "code", "customercode")),
    Target("short_name", gettext_lazy("Short name"), ("简称", "客户简称", "公司简称", "shortname")),
    Target("credit_code", gettext_lazy("Unified social credit code"),
           ("统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码", "creditcode", "uscc",
            "socialcreditcode", "unifiedsocialcreditcode")),
    Target("kind", gettext_lazy("Kind"), ("客户类别", "类别", "客户性质", "kind", "type"), choices.Kind),
    Target("status", gettext_lazy("Status"), ("客户状态", "状态", "status"), choices.Status),
    Target("potential_kind", gettext_lazy("Potential-customer kind"), ("潜客类型", "潜在客户类型"),
           choices.PotentialKind),
    Target("relation_class", gettext_lazy("Relation class"), ("关系类别", "客户关系"), choices.RelationClass),
    Target("industry", gettext_lazy("Industry"), ("行业", "所属行业", "行业类别", "industry"), choices.Industry),
    Target("enterprise_nature", gettext_lazy("Enterprise nature"), ("企业性质", "公司性质", "nature"),
           choices.EnterpriseNature),
    Target("production_mode", gettext_lazy("Production mode"), ("生产方式", "经营方式"), choices.ProductionMode),
    Target("scale", gettext_lazy("Scale"), ("规模", "企业规模", "人数规模", "scale", "size"), choices.Scale),
    Target("province", gettext_lazy("Province"), ("省", "省份", "所在省", "province", "state")),
    Target("city", gettext_lazy("City"), ("市", "城市", "所在城市", "地市", "city")),
    Target("district", gettext_lazy("District / county"), ("区", "区县", "县区", "县", "区/县", "district", "county")),
    Target("address", gettext_lazy("Address"), ("地址", "详细地址", "通讯地址", "公司地址", "联系地址", "address")),
    Target("postcode", gettext_lazy("Postcode"), ("邮编", "邮政编码", "postcode", "zip", "zipcode", "postalcode")),
    Target("phone", gettext_lazy("Phone"), ("电话", "联系电话", "固定电话", "座机", "办公电话", "phone", "telephone",
                                             "tel")),
    Target("mobile", gettext_lazy("Mobile"), ("手机", "手机号", "手机号码", "移动电话", "mobile", "mobilephone",
                                               "cell", "cellphone")),
    Target("fax", gettext_lazy("Fax"), ("传真", "传真号码", "fax")),
    Target("email", gettext_lazy("E-mail"), ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail")),
    Target("website", gettext_lazy("Website"), ("网址", "网站", "公司网址", "website", "web", "url")),
    Target("notes", gettext_lazy("Notes"), ("备注", "说明", "notes", "note", "remarks", "comment")),
    Target("tags", gettext_lazy("Tags"), ("标签", "tags", "tag")),
    Target("owner", gettext_lazy("Owner (user name or full name)"),
           ("业务员", "销售人员", "销售员", "负责人", "客户经理", "所属销售", "owner", "salesperson")),
    Target("gender", gettext_lazy("Gender"), ("性别", "gender", "sex"), choices.Gender),
    Target("birthday", gettext_lazy("Birthday"), ("生日", "出生日期", "birthday", "birthdate", "dateofbirth")),
    Target("occupation", gettext_lazy("Occupation"), ("职业", "occupation")),
    Target("annual_income", gettext_lazy("Annual income"), ("年收入", "annualincome", "income")),
    Target("education", gettext_lazy("Education"), ("学历", "文化程度", "education"), choices.Education),
]
CONTACT_TARGETS = [
    Target("contact.name", gettext_lazy("Contact: name"), ("联系人", "联系人姓名", "联系人名称", "接洽人",
                                                           "contact", "contactname", "contactperson")),
    Target("contact.title", gettext_lazy("Contact: title"), ("职务", "职位", "联系人职务", "title", "position",
                                                             "jobtitle")),
    Target("contact.department", gettext_lazy("Contact: department"), ("部门", "所在部门", "department")),
    Target("contact.mobile", gettext_lazy("Contact: mobile"), ("联系人手机", "联系人手机号", "contactmobile")),
    Target("contact.phone", gettext_lazy("Contact: phone"), ("联系人电话", "接洽人电话", "contactphone")),
    Target("contact.email", gettext_lazy("Contact: e-mail"), ("联系人邮箱", "contactemail")),
    Target("contact.wechat", gettext_lazy("Contact: WeChat"), ("微信", "微信号", "联系人微信", "wechat")),
    Target("contact.gender", gettext_lazy("Contact: gender"), ("联系人性别", "contactgender"), choices.Gender),
]
ACTIVITY_TARGETS = [
    Target("activity.occurred_at", gettext_lazy("Follow-up: date"), ("跟进日期", "跟进时间", "拜访日期", "联系日期",
                                                                      "followupdate", "activitydate")),
    Target("activity.kind", gettext_lazy("Follow-up: kind"), ("跟进方式", "联系方式类别", "followupkind"),
           ActivityKind),
    Target("activity.content", gettext_lazy("Follow-up: content"), ("跟进内容", "跟进记录", "拜访记录", "沟通内容",
                                                                     "followup", "followupcontent")),
    Target("activity.outcome", gettext_lazy("Follow-up: outcome"), ("跟进结果", "沟通结果", "outcome")),
    Target("activity.next_step", gettext_lazy("Follow-up: next step"), ("下一步", "下一步计划", "下步计划",
                                                                         "nextstep")),
    Target("activity.next_due", gettext_lazy("Follow-up: next due"), ("下次跟进日期", "下次跟进时间", "下次联系时间",
                                                                       "nextdue", "nextfollowup")),
]
FIXED_TARGETS = CUSTOMER_TARGETS + CONTACT_TARGETS + ACTIVITY_TARGETS
_MODELS = {"": Customer, "contact.": Contact, "activity.": Activity}


def _model_labels(target: Target) -> list[str]:
    """The field's verbose name in English and Chinese: a header that reads like the form's label."""
    prefix, _sep, field = target.key.rpartition(".")
    model = _MODELS.get(prefix + "." if prefix else "")
    try:
        verbose = model._meta.get_field(field).verbose_name
    except Exception:  # `code` of an existing customer, `owner` by name: no model label to add
        return []
    labels = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            labels.append(str(verbose))
    return labels if not prefix else []


def all_targets() -> list[Target]:
    """Fixed targets, then one per active custom field (label in Chinese and English, and key)."""
    targets = list(FIXED_TARGETS)
    for d in definitions_for(model="customer"):
        label = d.label + (f"（{d.unit}）" if d.unit else "")
        # 客户+label: a field whose label is taken by a fixed one (职务 is the contact's title) can still be
        # named for the customer (客户职务).
        targets.append(Target(f"custom.{d.key}", label, (d.label, d.label_en, d.key, "客户" + d.label)))
    return targets


def _synonym_index(targets: list[Target]) -> dict[str, str]:
    index: dict[str, str] = {}
    for target in targets:
        for text in (*target.synonyms, *_model_labels(target), str(target.label)):
            key = header_key(text)
            if key:
                index.setdefault(key, target.key)
    return index


def detect_mapping(headers: list[str], targets: list[Target] | None = None) -> dict[str, str]:
    """{target: header} for the headers that name a field; the first column wins for each target."""
    targets = targets if targets is not None else all_targets()
    index = _synonym_index(targets)
    mapping: dict[str, str] = {}
    for header in headers:
        target = index.get(header_key(header))
        if target and target not in mapping:
            mapping[target] = header
    return mapping


def parse_map_options(options: list[str]) -> dict[str, str]:
    """`--map field=column` options → {field: column}; an empty column unmaps the field."""
    mapping = {}
    for option in options:
        field, sep, column = option.partition("=")
        if not sep or not field.strip():
            raise ValidationFailed({"map": [_("Write --map as field=column, e.g. --map mobile=手机号码.")]})
        mapping[field.strip()] = column.strip()
    return mapping


def resolve_mapping(headers: list[str], overrides: dict[str, str] | None = None,
                    targets: list[Target] | None = None) -> dict[str, str]:
    """The detected mapping with the user's overrides applied and checked against the file."""
    targets = targets if targets is not None else all_targets()
    keys = {t.key for t in targets}
    mapping = detect_mapping(headers, targets)
    errors: dict[str, list[str]] = {}
    for field, column in (overrides or {}).items():
        if field not in keys:
            errors[field] = [_("There is no field “%(field)s”. Fields: %(fields)s.")
                             % {"field": field, "fields": ", ".join(sorted(keys))}]
        elif not column:
            mapping.pop(field, None)
        elif column not in headers:
            errors[field] = [_("The file has no column “%(column)s”. Columns: %(columns)s.")
                             % {"column": column, "columns": "、".join(h for h in headers if h)}]
        else:
            mapping[field] = column
    if not errors and "name" not in mapping and "code" not in mapping:
        errors["name"] = [_("No column holds the customer name. Name it 客户名称 or choose the column that "
                            "holds it.")]
    if errors:
        raise ValidationFailed(errors)
    return mapping


# Only the Chinese labels' separators: English labels split at "and" or "," gave wrong guesses
# ("technology" → education and science, "water" → agriculture).
_LABEL_PARTS = re.compile(r"\s*(?:/|／|、)\s*")


def choice_lookup(choices_class) -> dict[str, str]:
    """Cell text → stored value for a choice field: the value itself, its label in either language, or a
    part of a Chinese label that names several things (医药 or 制药 for 制药/医药) when no other option
    has that part."""
    lookup: dict[str, str] = {}
    parts: dict[str, set[str]] = {}
    for value, label in choices_class.choices:
        lookup[header_key(value)] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                text = to_halfwidth(str(label))
            lookup.setdefault(header_key(text), value)
            if language != "zh-hans":
                continue
            for part in _LABEL_PARTS.split(_UNIT.sub("", text.strip()) or text):
                if key := header_key(part):
                    parts.setdefault(key, set()).add(value)
    for key, values in parts.items():
        if len(values) == 1:
            lookup.setdefault(key, values.pop())
    return lookup
