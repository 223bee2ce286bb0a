"""Excel templates for the seed's paper forms: 潜在客户登记表, 潜客信息卡, 新产品潜在客户追踪表.

Each template is one sheet with Chinese headers the importer recognises, a sample row, drop-down
lists (data validation) for choice fields and an instructions sheet. Options come from the choice
lists and the custom-field definitions at download time, so an administrator's changes show up.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from urllib.parse import quote

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from qianke.core.custom_fields import definitions_for
from qianke.customers import choices


@dataclass(frozen=True)
class Column:
    header: str
    sample: str = ""
    options: tuple[str, ...] | type | str | None = None  # a TextChoices class, "custom:<key>", or a tuple
    required: bool = False


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: object
    columns: tuple[Column, ...]


TEMPLATES: dict[str, Template] = {t.key: t for t in (
    Template("registration", "潜在客户登记表", _("Organisations: the registration form and demand survey."), (
        Column("客户名称", "北京华信精密机械有限公司", required=True),
        Column("客户类别", "单位", choices.Kind),
        Column("地址", "北京市海淀区中关村大街 18 号"),
        Column("邮编", "100080"),
        Column("电话", "010-62345678"),
        Column("手机", "138 1234 5678"),
        Column("传真", "010-62345679"),
        Column("邮箱", "info@huaxin.example.cn"),
        Column("联系人", "张伟"),
        Column("职务", "采购经理"),
        Column("联系人手机", "139 0000 1111"),
        Column("企业性质", "民营", choices.EnterpriseNature),
        Column("行业", "制造企业", choices.Industry),
        Column("生产方式", "生产型", choices.ProductionMode),
        Column("规模", "中型（100–999 人）", choices.Scale),
        Column("生产/加工方式描述（基本生产流程）", "下料—机加工—装配—检测"),
        Column("产值/销售额", "12000", "custom:output_value"),
        Column("采购方式", "集中批量", "custom:purchasing_pattern"),
        Column("采购政策", "质量优先原则", "custom:procurement_policy"),
        Column("备注", "2026 年工博会名录"),
    )),
    Template("lead_card", "潜客信息卡", _("Individuals: the dealership's lead card."), (
        Column("客户姓名", "王强", required=True),
        Column("客户类别", "个人", choices.Kind),
        Column("性别", "男", choices.Gender),
        Column("客户职务", "车队负责人", "custom:job_title"),
        Column("生日", "1982-06-18"),
        Column("联系地址", "广州市天河区天河路 100 号"),
        Column("县/区", "天河区"),
        Column("邮编", "510620"),
        Column("固定电话", "020-38881234"),
        Column("移动电话", "13912345678"),
        Column("传真号码", ""),
        Column("E-mail", "wangqiang@example.cn"),
        Column("结构来源", "展厅客源", "custom:structural_source"),
        Column("第一来源", "来店", "custom:first_source"),
        Column("信息来源", "网络、介绍", "custom:information_source"),
        Column("现有车型", "全顺"),
        Column("购车形态", "增购车辆", "custom:purchase_type"),
        Column("客户类型", "单位", "custom:customer_type"),
        Column("车辆用途", "载货", "custom:vehicle_usage"),
        Column("购买方式", "贷款", "custom:payment_method"),
        Column("预计购车时间", "2027-03-01"),
        Column("购车预算", "18", "custom:budget"),
        Column("是否置换车", "否", ("是", "否")),
        Column("车辆关注点", "价格、质量", "custom:focus_points"),
        Column("意向品牌", "轻卡", "custom:intended_brand"),
        Column("意向车型", "JX1041"),
        Column("客户初始级别", "B级", "custom:initial_grade"),
        Column("业务员", ""),
    )),
    Template("new_product", "新产品潜在客户追踪表", _("Follow-ups of potential customers for a new product."), (
        Column("客户名称", "苏州吴中电子科技有限公司", required=True),
        Column("接洽人", "李娜"),
        Column("接洽人电话", "0512-65431234"),
        Column("跟进日期", "2026-11-20"),
        Column("跟进方式", "电话", "activity_kind"),
        Column("跟进内容", "新产品：智能仓储方案；预定采购时间：3个月内；预算 50 万元；报价表编号 BJ-2026-018；"
                            "竞争对手：某某科技"),
        Column("跟进结果", "客户在内部评估"),
        Column("下一步", "发送正式报价"),
        Column("下次跟进日期", "2026-12-01"),
        Column("备注", ""),
    )),
)}


def _options(column: Column, custom: dict) -> list[str]:
    if column.options is None:
        return []
    if isinstance(column.options, tuple):
        return list(column.options)
    if column.options == "activity_kind":
        from qianke.activities.models import ActivityKind

        return [str(label) for label in ActivityKind.labels]
    if isinstance(column.options, str):
        definition = custom.get(column.options.removeprefix("custom:"))
        return list(definition.choices) if definition is not None and definition.choices else []
    return [str(label) for label in column.options.labels]


def _header(column: Column, custom: dict) -> str | None:
    """The header, with the unit of a number field; None when the custom field is gone."""
    if isinstance(column.options, str) and column.options.startswith("custom:"):
        definition = custom.get(column.options.removeprefix("custom:"))
        if definition is None:
            return None
        if definition.unit:
            return f"{column.header}（{definition.unit}）"
    return column.header


def template_bytes(key: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    template = TEMPLATES[key]
    custom = {d.key: d for d in definitions_for(model="customer")}
    with translation.override("zh-hans"):
        columns = [(c, h) for c in template.columns if (h := _header(c, custom)) is not None]
        options = [_options(c, custom) for c, _h in columns]
        wb = Workbook()
        ws = wb.active
        ws.title = template.title[:31]
        lists = wb.create_sheet("选项")
        lists.sheet_state = "hidden"
        bold = Font(bold=True)
        fill = PatternFill("solid", fgColor="FDE9D9")
        for index, ((column, header), values) in enumerate(zip(columns, options, strict=True), start=1):
            cell = ws.cell(row=1, column=index, value=header)
            cell.font = bold
            if column.required:
                cell.fill = fill
            ws.cell(row=2, column=index, value=column.sample).alignment = Alignment(wrap_text=False)
            ws.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(header) * 2 + 4))
            if values:
                letter = get_column_letter(index)
                for row, value in enumerate(values, start=1):
                    lists[f"{letter}{row}"] = value
                multiple = isinstance(column.options, str) and custom.get(
                    column.options.removeprefix("custom:")) is not None and \
                    custom[column.options.removeprefix("custom:")].field_type == "multichoice"
                # A multiple choice is typed as 品牌、价格: the list only suggests, it does not refuse.
                validation = DataValidation(type="list", formula1=f"=选项!${letter}$1:${letter}${len(values)}",
                                            allow_blank=True, showErrorMessage=not multiple)
                ws.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}5000")
        ws.freeze_panes = "A2"
        notes = wb.create_sheet("说明")
        notes["A1"] = f"{template.title}：{template.description}"
        notes["A2"] = "第 1 行是列名（请勿修改），第 2 行是示例（导入前请删除或替换）。红底的列必填。"
        notes["A3"] = "有下拉列表的列请从列表中选择；多选的列用顿号分隔，例如：价格、质量。"
        notes["A4"] = "手机、电话可以带空格、横线或 +86；日期写成 2026-11-22。"
        with tempfile.TemporaryFile() as f:
            wb.save(f)
            f.seek(0)
            return f.read()


def quoted_name(key: str) -> str:
    return quote(f"{TEMPLATES[key].title}.xlsx")
