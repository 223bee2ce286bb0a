"""The shipped taxonomy: 潜客信息卡 (seed 000) sources and the collection methods of seeds 000/001.

Data, so in Chinese. Migration leads/0002_seed_taxonomy creates the rows (get_or_create by name), so an
administrator's later renames, moves and deactivations are kept.
"""

from __future__ import annotations

# 结构来源 → 第一来源
SOURCE_TREE: list[tuple[str, list[str]]] = [
    ("展厅客源", ["来电", "来店"]),
    ("续购客源", ["老客户续购"]),
    ("介绍客源", ["老客户介绍", "零服推荐", "亲友介绍", "中介"]),
    ("外拓客源", ["市场活动", "外拓宣传", "总部潜客", "数据库"]),
]

# 信息来源
INFORMATION_SOURCES: list[str] = ["报纸", "电视", "网络", "114", "电台", "杂志", "介绍", "海报", "路过", "外拓宣传",
                                  "市场活动", "户外广告"]

# 潜在客户信息的搜集方法: (code, name, description)
COLLECTION_METHODS: list[tuple[str, str, str]] = [
    ("sales_archive", "公司过去的销售档案", "公司历年的销售记录与客户档案"),
    ("public_directory", "公共资料(电话簿/114/地图)", "电话簿、114 查询台、地图等"),
    ("industry_media", "行业专业媒介", "行业报刊、商务手册"),
    ("internet", "互联网搜索/B2B网站", "搜索引擎、阿里巴巴等 B2B 网站、行业网站"),
    ("exhibition", "展会及会刊", "行业或区域展会，展会会刊"),
    ("competitor", "竞争对手渠道", "竞争对手的网站、广告与渠道"),
    ("canvassing", "扫荡法", "跑市场、逐户走访辖区"),
    ("referral", "猎犬法(客户介绍/关联销售)", "请客户介绍客户；关联产品的销售人员推荐"),
    ("advertising", "广告", "广告搜寻"),
    ("direct_mail", "直邮", "直接邮寄"),
    ("agency", "专业机构", "调查、咨询等专业机构"),
    ("personal_relations", "缘故法(亲戚/同事/朋友/同学/老乡)", "亲戚、同事、朋友、同学、老乡关系"),
]

# Custom fields of the 潜客信息卡 that CustomerOrigin supersedes (see migration 0003).
SUPERSEDED_CUSTOM_KEYS = ("structural_source", "first_source", "information_source")


def create_taxonomy(source_model, information_source_model, collection_method_model) -> None:
    """Create what is missing; models may be historical (migrations) or current."""
    for order, (root_name, children) in enumerate(SOURCE_TREE, start=1):
        root, created = source_model.objects.get_or_create(parent=None, name=root_name,
                                                           defaults={"order": order * 10})
        if created or not root.path:
            root.path, root.depth = f"/{root.pk}/", 0
            root.save(update_fields=["path", "depth"])
        for child_order, child_name in enumerate(children, start=1):
            child, created = source_model.objects.get_or_create(parent=root, name=child_name,
                                                                defaults={"order": child_order * 10})
            if created or not child.path:
                child.path, child.depth = f"{root.path}{child.pk}/", 1
                child.save(update_fields=["path", "depth"])
    for order, name in enumerate(INFORMATION_SOURCES, start=1):
        information_source_model.objects.get_or_create(name=name, defaults={"order": order * 10})
    for order, (code, name, description) in enumerate(COLLECTION_METHODS, start=1):
        collection_method_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "order": order * 10})
