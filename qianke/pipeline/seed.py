"""The three process templates of seed 002 and the default win/loss reasons.

Data, so in Chinese. Migration pipeline/0002_seed_processes creates the processes that are missing (by code);
an existing process is left alone, so administrators' later renames and changes are kept.

Each stage: (name, semantic, probability, participants, keyword, key node, normal days, required fields,
work content, [(checklist text, required for the key node)]).
"""

from __future__ import annotations

from typing import Any

OPEN, WON, LOST = "open", "won", "lost"

Stage = tuple[str, str, int, str, str, str, int | None, list[str], str, list[tuple[str, bool]]]

DEVELOPMENT: list[Stage] = [
    ("确定开发对象", OPEN, 10, "商务经理/开发经理", "潜在需求", "判断有无成交机会：有则进入下一阶段，无则终止", 14, [],
     "了解客户潜在需求(基于何种考虑需要增加或调整供应商？紧迫性如何？)；初步沟通，了解客户经营概况；判断成交机会的有无。", [
         ("了解客户的经营时间、规模与目前经营状况", False),
         ("判断潜在需求(供应商结构与现存问题、业务规划、特定需求的强烈程度)", True),
         ("初步沟通后确认有成交机会", True),
     ]),
    ("样品资料提供/信息收集", OPEN, 20, "商务经理/开发经理", "内线；信息充分", "内线确定；样品资料送达；信息充分；需求明确", 30, [],
     "提供样品资料；确定客户内部的内线；搜集关键决策人信息、采购流程信息、目前供应商情况、采购决策周期与关注因素、客户经营信息。", [
         ("样品资料已送达(达到约定标准)", True),
         ("确定内线(采购员、采购经理或其他了解内情的人员)", True),
         ("搜集关键决策人个人信息(籍贯、年龄、生日、兴趣、权限、性格、做事风格、家庭)", True),
         ("搜集采购流程信息(a 立项 → f 签订合作协议)", False),
         ("了解目前供应商情况(结构、现存问题、改变意愿、供应时间)", False),
         ("了解采购决策周期、成交难度与客户关注因素排序", False),
         ("了解客户经营信息(资源、稳健性、付款周期与准时性)", False),
         ("需求明确", True),
     ]),
    ("价值评估/开发程序", OPEN, 40, "开发经理/部门负责人", "价值评估", "判断成交可能性，描述成交路径，确定开发程序", 21,
     ["amount", "expected_close_date"],
     "评估成交可能性、成交障碍与预期费用；对份额、投入、成交风险、对我司的价值、客户风险、我方能力与技术难度作价值评估；设计开发程序。", [
         ("判断成交可能性并描述成交路径", True),
         ("识别成交障碍", False),
         ("估算预期费用", False),
         ("完成价值评估(六个维度)", True),
         ("制定针对该客户的开发程序", True),
     ]),
    ("关系建立", OPEN, 60, "开发经理/部门负责人", "关系", "与关键决策人建立良好关系；影响力渗透", 30, ["next_step"],
     "与关键决策人建立、维持、深化关系；通过内线渗透影响力。", [
         ("与关键决策人建立良好关系", True),
         ("影响力渗透到采购流程相关部门", False),
     ]),
    ("促成成交", OPEN, 80, "开发经理/高层", "成交", "高层沟通、考察/验厂、系统支持", 30, ["quote_number"],
     "高层沟通；安排客户考察/验厂；系统支持。", [
         ("高层沟通", True),
         ("客户考察/验厂", False),
         ("系统支持到位", False),
     ]),
    ("成交", WON, 100, "", "", "", None, [], "", []),
    ("终止", LOST, 0, "", "", "", None, [], "", []),
]

SALES: list[Stage] = [
    ("客户开发", OPEN, 10, "销售代表", "项目信息", "准确的项目信息", 30, [], "获取并核实项目信息。", [
        ("获得准确的项目信息(需求、预算、时间、决策人)", True),
    ]),
    ("立项", OPEN, 25, "销售代表/售前", "售前立项", "售前立项", 14, ["amount", "expected_close_date"],
     "评估销售机会，完成售前立项。", [
         ("售前立项审批通过", True),
     ]),
    ("提案", OPEN, 40, "销售代表/售前", "客户关系", "有效的客户关系推进", 30, ["products"],
     "提交方案，推进与客户的关系。", [
         ("方案已提交客户", False),
         ("客户关系有效推进(关键人认同方案)", True),
     ]),
    ("招投标", OPEN, 60, "销售代表/商务", "投标", "投标或议标", 30, ["quote_number"], "准备标书，投标或议标。", [
        ("完成投标或议标", True),
    ]),
    ("商务谈判", OPEN, 80, "销售经理/商务", "合同", "合同审批和合同签订", 21, [], "商务谈判，合同审批与签订。", [
        ("合同审批通过", True),
        ("合同签订", True),
    ]),
    ("工程实施", OPEN, 95, "实施工程师/项目经理", "验收", "工程验收和项目结项", 60, [], "工程实施，验收，项目结项。", [
        ("工程验收", True),
        ("项目结项", True),
    ]),
    ("赢单", WON, 100, "", "", "", None, [], "", []),
    ("输单", LOST, 0, "", "", "", None, [], "", []),
]

AGENT: list[Stage] = [
    ("寻找客户", OPEN, 5, "商开专员", "潜在需求", "找到有代理意向的客户", 14, [], "寻找区域代理对象。", [
        ("找到潜在代理商", True),
    ]),
    ("确认需求", OPEN, 15, "商开专员", "需求", "客户确认有需求", 14, [], "确认客户有代理需求。", [
        ("客户确认有需求", True),
    ]),
    ("代理申请", OPEN, 25, "商开专员", "申请表", "《区域代理申请表》已填写", 7, [], "客户填写《区域代理申请表》。", [
        ("填写《区域代理申请表》", True),
    ]),
    ("资料审核", OPEN, 35, "商审委员会", "审核", "相关资料审核通过", 7, [], "对相关资料进行审核。", [
        ("相关资料审核通过", True),
    ]),
    ("初次拜访", OPEN, 45, "商开专员", "拜访", "完成初次拜访", 14, ["next_step"], "初次拜访客户。", [
        ("完成初次拜访", True),
    ]),
    ("确认合作意向", OPEN, 60, "商开专员/部门负责人", "合作意向", "介绍并确认合作意向", 14, [], "介绍合作方式，确认合作意向。", [
        ("介绍合作政策", False),
        ("确认合作意向", True),
    ]),
    ("拟定代理合同", OPEN, 75, "商开专员/法务", "合同", "起草拟定《代理合同》", 14, [], "起草拟定《代理合同》。", [
        ("起草拟定《代理合同》", True),
    ]),
    ("签约试合作", OPEN, 85, "商开专员", "试合作", "签定《代理合同》，三个月试合作期满", 90, [],
     "签定《代理合同》，进行三个月试合作期，合作期满后转为正式合作。", [
         ("签定《代理合同》", True),
         ("三个月试合作期满，评估合格", True),
     ]),
    ("正式合作", WON, 100, "商开专员", "回访", "", None, [], "转为正式合作；定期进行回访，协助开发市场。", []),
    ("终止合作", LOST, 0, "", "", "", None, [], "", []),
]

PROCESSES: list[dict[str, Any]] = [
    {"code": "big_account_development", "name": "大客户开发流程", "kind": "开发",
     "description": "大客户开发五阶段：确定开发对象 → 样品资料提供/信息收集 → 价值评估/开发程序 → 关系建立 → 促成成交。",
     "stages": DEVELOPMENT},
    {"code": "big_account_sales", "name": "大客户销售流程", "kind": "销售",
     "description": "客户开发 → 立项 → 提案 → 招投标 → 商务谈判 → 工程实施，每个阶段以关键节点为出口标准。",
     "stages": SALES},
    {"code": "regional_agent", "name": "区域代理签约流程", "kind": "代理签约",
     "description": "寻找客户 → 确认需求 → 申请表 → 审核 → 初次拜访 → 确认意向 → 代理合同 → 三个月试合作 → 正式合作并定期回访。",
     "stages": AGENT},
]

REASONS: dict[str, list[str]] = {
    WON: ["价格优势", "产品/技术优势", "客户关系", "服务与交付", "其他"],
    LOST: ["价格偏高", "竞争对手胜出", "客户需求取消", "预算不足", "关系未建立", "技术/产品不满足", "其他"],
}


def create_templates(process_model, stage_model, item_model, reason_model) -> None:
    """Create what is missing; models may be historical (migrations) or current."""
    for p_order, spec in enumerate(PROCESSES, start=1):
        # Once shipped, a process belongs to the administrators: never re-add or reset its stages.
        if process_model.objects.filter(code=spec["code"]).exists():
            continue
        process = process_model.objects.create(code=spec["code"], name=spec["name"], kind=spec["kind"],
                                               description=spec["description"], order=p_order * 10)
        for order, (name, semantic, prob, participants, keyword, key_node, days, fields, work,
                    items) in enumerate(spec["stages"], start=1):
            stage = stage_model.objects.create(
                process=process, order=order * 10, name=name, semantic=semantic, probability=prob,
                participants=participants, keyword=keyword, key_node=key_node, normal_days=days,
                required_fields=fields, work_content=work)
            for i, (text, required) in enumerate(items, start=1):
                item_model.objects.create(stage=stage, order=i * 10, text=text, required=required)
    for semantic, names in REASONS.items():
        for order, name in enumerate(names, start=1):
            reason_model.objects.get_or_create(semantic=semantic, name=name, defaults={"order": order * 10})
