"""Realistic Chinese demo data: teams, users of every role, customers, contacts and follow-ups.

`demo_generate(customers=N, seed=S)` writes N customers (about 80 % organisations) with 1–3
contacts per organisation and 0–4 follow-ups each, spread over the past three years, and returns
the counts. It is built for volume (benchmarks load a million customers with it):

- rows are written in batches, one transaction per batch (COPY text on PostgreSQL, parameter lists
  on SQLite; BulkTable), drawn by forked builder processes for large loads;
- customer codes are allocated in blocks per month (`allocate_codes(count=n, when=month)`);
- canonical names come from `qianke.core.normalize`; the demo's mobiles and landlines are drawn in
  their canonical form already; search rows are built as `customer_search_document` builds them
  (`_search_document`, a company name's tokens joined from its words'), tests hold them equal;
- large loads suspend the full-text index and rebuild it afterwards (SQLite: built beside the load
  and copied in) instead of maintaining it row by row;
- with `capabilities=True` (`qianke demo`) the capabilities' rows that follow from each customer
  (lifecycle histories, origins, qualifications: their modules' `demo_load_rows`, see LoadRows) are
  drawn in the writing process and written with each batch, instead of in passes that read a
  million customers back afterwards;
- pypinyin costs about 40 µs a call, several calls per customer. Demo names are built from a few
  hundred words, so while generating, pinyin is looked up per word (computed once) instead of per
  name; that is `_word_pinyin` below.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import itertools
import json
import multiprocessing
import os
import random
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from pypinyin import Style

from qianke.accounts.models import Role, Team, User
from qianke.accounts.services import team_get_or_create, user_create
from qianke.activities.models import Activity, ActivityKind
from qianke.core import normalize
from qianke.core.bulk import collector_paused, reserve_ids
from qianke.core.bulk_indexes import (
    add_foreign_keys,
    add_missing_keys,
    if_not_exists,
    key_names,
    plain_indexes_suspended,
    rebuild_plain_indexes,
    restore_suspended_indexes,
    suspend_foreign_keys,
    suspend_plain_indexes,
)
from qianke.core.codes import allocate_codes
from qianke.customers import search
from qianke.customers.choices import (
    Education,
    EnterpriseNature,
    Gender,
    Industry,
    Kind,
    PotentialKind,
    ProductionMode,
    RelationClass,
    Scale,
    Status,
)
from qianke.customers.models import Contact, Customer, CustomerSearch
from qianke.customers.services import CODE_PREFIX

MAX_CUSTOMERS = 10_000_000
DEFAULT_BATCH = 2_000
# From this many customers the rows are built in forked processes and, when the tables hold no more
# customers than the load brings, the indexes are dropped for the load and built once after it
# instead of being maintained row by row (search.bulk_index_suspended; a small load into a large
# database keeps them: rebuilding them would cost more). 10,000 customers on SQLite: 2.6 s, not 4.7.
BULK_INDEX_FROM = 5_000
# From this many customers the indexes are dropped and built again after the load whatever the
# tables hold already (as before BULK_INDEX_FROM was lowered; not measured against keeping them).
BULK_INDEX_ALWAYS_FROM = 20_000
YEARS_BACK = 3
# PostgreSQL, large loads into a table no larger than the load (see demo_generate).
# The plain indexes are built in the GIN build sessions next to the pinyin build (_PgTail.jobs): the
# backend spent ~110 µs a customer with them in place, ~67 without (200,000 customers).
PG_SUSPEND_PLAIN_INDEXES = True
PG_SUSPEND_FOREIGN_KEYS = True
# From this many customers the tables are vacuumed and analysed after the load.
VACUUM_FROM = 100_000
DEMO_PASSWORD_FILE = "demo-password.txt"

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# province, city, area code, postcode prefix, districts, sales region (team)
CITIES: list[tuple[str, str, str, str, tuple[str, ...], str]] = [
    ("北京市", "北京市", "010", "100", ("海淀区", "朝阳区", "东城区", "西城区", "丰台区"), "华北组"),
    ("天津市", "天津市", "022", "300", ("和平区", "南开区", "河西区", "滨海新区"), "华北组"),
    ("河北省", "石家庄市", "0311", "050", ("长安区", "桥西区", "裕华区"), "华北组"),
    ("辽宁省", "沈阳市", "024", "110", ("和平区", "沈河区", "皇姑区", "浑南区"), "华北组"),
    ("黑龙江省", "哈尔滨市", "0451", "150", ("南岗区", "道里区", "香坊区"), "华北组"),
    ("山东省", "济南市", "0531", "250", ("历下区", "市中区", "槐荫区", "历城区"), "华东组"),
    ("山东省", "青岛市", "0532", "266", ("市南区", "市北区", "黄岛区", "崂山区"), "华东组"),
    ("上海市", "上海市", "021", "200", ("浦东新区", "徐汇区", "静安区", "闵行区", "长宁区"), "华东组"),
    ("江苏省", "南京市", "025", "210", ("玄武区", "鼓楼区", "建邺区", "江宁区"), "华东组"),
    ("江苏省", "苏州市", "0512", "215", ("姑苏区", "吴中区", "虎丘区", "昆山市"), "华东组"),
    ("浙江省", "杭州市", "0571", "310", ("西湖区", "上城区", "滨江区", "余杭区"), "华东组"),
    ("浙江省", "宁波市", "0574", "315", ("海曙区", "鄞州区", "北仑区"), "华东组"),
    ("安徽省", "合肥市", "0551", "230", ("蜀山区", "包河区", "庐阳区"), "华东组"),
    ("福建省", "福州市", "0591", "350", ("鼓楼区", "台江区", "仓山区"), "华南组"),
    ("福建省", "厦门市", "0592", "361", ("思明区", "湖里区", "集美区"), "华南组"),
    ("广东省", "广州市", "020", "510", ("天河区", "越秀区", "海珠区", "番禺区", "白云区"), "华南组"),
    ("广东省", "深圳市", "0755", "518", ("南山区", "福田区", "罗湖区", "宝安区", "龙岗区"), "华南组"),
    ("广东省", "东莞市", "0769", "523", ("南城街道", "东城街道", "长安镇", "虎门镇"), "华南组"),
    ("湖北省", "武汉市", "027", "430", ("江汉区", "武昌区", "洪山区", "汉阳区"), "华中组"),
    ("湖南省", "长沙市", "0731", "410", ("岳麓区", "芙蓉区", "天心区", "雨花区"), "华中组"),
    ("河南省", "郑州市", "0371", "450", ("金水区", "中原区", "二七区", "管城回族区"), "华中组"),
    ("四川省", "成都市", "028", "610", ("武侯区", "锦江区", "青羊区", "成华区"), "西部组"),
    ("重庆市", "重庆市", "023", "400", ("渝中区", "江北区", "渝北区", "九龙坡区"), "西部组"),
    ("云南省", "昆明市", "0871", "650", ("五华区", "盘龙区", "官渡区"), "西部组"),
    ("陕西省", "西安市", "029", "710", ("雁塔区", "碑林区", "未央区", "莲湖区"), "西部组"),
]
CITY_WEIGHTS = [6, 3, 2, 2, 2, 2, 2, 7, 4, 4, 5, 3, 2, 2, 2, 6, 6, 3, 4, 3, 3, 4, 3, 2, 3]
REGIONS = ("华东组", "华北组", "华南组", "华中组", "西部组")

BRAND_CHARS = (
    "华信达宏鑫源盛泰恒瑞丰隆通利嘉远安康博创新星金和兴昌明德佳凯天海中正永诚汇聚鼎辰启航东方润锦程晨峰"
    "伟业联合腾飞祥云光宇顺发万通"
)
# Words for each industry: what a company of that industry calls itself.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    Industry.ELECTRIC_POWER: ("电力", "电气", "电力工程", "能源"),
    Industry.PUBLIC_SECURITY_JUSTICE: ("安防", "安防科技", "警用装备"),
    Industry.TOBACCO: ("烟草", "烟草机械"),
    Industry.HEALTHCARE: ("医疗", "医疗器械", "健康管理"),
    Industry.ROAD_TRANSPORT: ("运输", "公路运输", "货运"),
    Industry.TELECOM: ("通信", "通讯", "网络通信"),
    Industry.PETROCHEMICAL: ("石化", "石油化工", "油气"),
    Industry.LOGISTICS: ("物流", "供应链", "仓储物流"),
    Industry.RAILWAY: ("铁路装备", "轨道交通"),
    Industry.REAL_ESTATE: ("置业", "房地产开发", "地产"),
    Industry.TEXTILE_APPAREL: ("纺织", "服饰", "服装"),
    Industry.CONSTRUCTION_ENGINEERING: ("建设工程", "建筑", "路桥"),
    Industry.VEHICLE_CONVERSION: ("专用汽车", "汽车改装"),
    Industry.AVIATION: ("航空", "航空服务"),
    Industry.CHEMICAL_ENERGY: ("化工", "新能源", "新材料"),
    Industry.HOTEL_CATERING: ("酒店管理", "餐饮管理", "酒店"),
    Industry.APPLIANCES_RETAIL: ("电器", "百货", "商贸"),
    Industry.FINANCE_SECURITY: ("金融服务", "投资", "押运"),
    Industry.BUILDING_INSTALLATION: ("安装工程", "机电安装", "装饰工程"),
    Industry.MINING_METALLURGY: ("矿业", "冶金", "钢铁"),
    Industry.PASSENGER_TOURISM: ("旅游", "客运", "旅行社"),
    Industry.AGRICULTURE: ("农业", "农牧", "水产", "林业"),
    Industry.CAR_RENTAL: ("汽车租赁", "租车"),
    Industry.FOOD_BEVERAGE: ("食品", "饮料", "乳业"),
    Industry.COMMERCE_TRADE: ("贸易", "商贸", "进出口"),
    Industry.EDUCATION_SCIENCE: ("教育科技", "文化传媒", "科教"),
    Industry.POSTAL: ("快递", "速递"),
    Industry.PHARMACEUTICAL: ("制药", "医药", "生物医药"),
    Industry.MANUFACTURING: ("机械", "制造", "精密机械", "模具"),
    Industry.IT_SOFTWARE: ("软件", "信息技术", "网络科技", "数据科技"),
    Industry.ELECTRONICS: ("电子", "电子科技", "光电"),
    Industry.AUTOMOTIVE: ("汽车零部件", "汽车销售", "汽车"),
    Industry.OTHER: ("实业", "发展", "企业管理"),
}
COMPANY_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "科技有限公司", "集团有限公司")
COMPANY_SUFFIX_WEIGHTS = (50, 15, 10, 18, 7)
# Organisations that are not companies: (industry, name endings)
PUBLIC_BODIES: dict[str, tuple[str, ...]] = {
    Industry.GOVERNMENT: ("市场监督管理局", "交通运输局", "住房和城乡建设局", "应急管理局", "生态环境局"),
    Industry.PUBLIC_INSTITUTION: ("疾病预防控制中心", "公共资源交易中心", "档案馆", "职业技术学院"),
    Industry.MUNICIPAL: ("市政工程管理处", "城市管理局", "园林绿化管理中心"),
}
ROADS = ("人民路", "解放路", "中山路", "建设路", "科技路", "文化路", "滨江大道", "长江路", "黄河路", "新华路",
         "学院路", "工业大道", "高新大道", "湖滨路", "春申路", "东风路")
BUILDING_WORDS = ("大厦", "国际中心", "科技园", "广场", "产业园")

FAMILY_NAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
                "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱")
GIVEN_MALE = ("伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞",
              "鑫", "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "志强", "建华",
              "建国", "文博", "子轩", "浩然", "俊杰", "海涛", "晓东", "志明", "国栋", "宏伟", "振宇")
GIVEN_FEMALE = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "莹", "倩", "洁",
                "颖", "琳", "晶", "欣", "秀英", "桂英", "丽娟", "晓燕", "雅婷", "欣怡", "梓涵", "思琪", "佳怡",
                "美玲", "海燕", "玉兰", "春梅", "婉清")
TITLES = ("总经理", "副总经理", "采购经理", "采购专员", "技术总监", "财务总监", "办公室主任", "项目经理",
          "设备科科长", "工程师", "信息中心主任", "董事长")
DEPARTMENTS = ("采购部", "技术部", "财务部", "总经办", "行政部", "生产部", "信息中心", "工程部")
OCCUPATIONS = ("教师", "医生", "工程师", "个体经营者", "公务员", "会计", "律师", "销售经理", "设计师",
               "自由职业", "企业主", "程序员", "护士")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "156", "158", "159", "166", "173", "176", "177", "180", "181", "182", "185", "186", "187",
                   "188", "189", "191", "195", "198", "199")
PRODUCTS = ("ERP 系统", "智能仓储方案", "年度维保合同", "数据中台", "门禁安防系统", "办公设备", "工业传感器",
            "培训服务", "云服务器", "定制开发")
CONTENTS = {
    ActivityKind.CALL: ("电话沟通{p}的需求，对方有兴趣", "电话回访，{c}表示预算在审批中", "电话确认{p}报价细节"),
    ActivityKind.VISIT: ("上门拜访{c}，介绍{p}", "拜访客户现场，了解{p}使用情况", "陪同技术人员到现场勘察"),
    ActivityKind.MEETING: ("与{c}开会讨论{p}方案", "参加客户招标答疑会", "组织{p}产品演示会"),
    ActivityKind.EMAIL: ("发送{p}报价单给{c}", "邮件发送技术方案和资质文件", "邮件跟进合同条款"),
    ActivityKind.NOTE: ("{c}下月调岗，需要认识新的对接人", "客户对{p}价格敏感，竞争对手报价更低", "记录：客户年底集中采购"),
}
OUTCOMES = ("对方同意安排下一次沟通", "需要再报一次价", "客户在内部评估", "暂无需求", "已确认采购意向", "")
NEXT_STEPS = ("发送正式报价", "约{c}面谈", "安排产品演示", "寄送样品", "跟进合同审批进度", "回访使用情况",
              "邀请参加新品发布会", "确认招标时间")


# The builders' draws: one random() each, about a quarter of what rng.choice / randint / randrange
# cost (which loop over getrandbits for an exactly uniform draw; int(random() * n) is off by < 2⁻⁴⁰).
# They were a quarter of a builder's time.
def _pick(rng: random.Random, options):
    return options[int(rng.random() * len(options))]


def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _between(rng: random.Random, low: int, high: int) -> int:
    """low … high, both included (as randint)."""
    return low + int(rng.random() * (high - low + 1))


_CUMULATIVE: dict[tuple, tuple[list, float]] = {}


def _weighted(rng: random.Random, options, weights: tuple):
    """rng.choices(options, weights)[0] (the same value, drawing the same random number) with the
    cumulative weights computed once per weights tuple instead of on every call."""
    cumulative = _CUMULATIVE.get(weights)
    if cumulative is None:
        sums = list(itertools.accumulate(weights))
        cumulative = _CUMULATIVE[weights] = (sums, sums[-1] + 0.0)
    sums, total = cumulative
    return options[bisect.bisect(sums, rng.random() * total, 0, len(options) - 1)]


# ---------------------------------------------------------------------------------------------
# Pinyin per word while generating
# ---------------------------------------------------------------------------------------------


# The keyword arguments of search_document's two lazy_pinyin calls, as _WordPinyin keys them.
_PLAIN_KEY = (("errors", "default"),)
_INITIALS_KEY = tuple(sorted({"style": Style.FIRST_LETTER, "errors": "default"}.items()))
_ALL_CJK = re.compile(rf"{normalize._CJK_CHAR.pattern}+")


class _WordPinyin:
    """Stands in for `normalize.lazy_pinyin` while generating: demo names are registered with the
    words they are made of, and their pinyin is the pinyin of those words, computed once each."""

    def __init__(self, real: Callable) -> None:
        self.real = real
        self.words: dict[str, tuple[str, ...]] = {}
        self.cache: dict[tuple, list[str]] = {}

    def register(self, text: str, words: tuple[str, ...]) -> None:
        self.words[text] = words

    def forget(self) -> None:
        self.words.clear()

    def _one(self, text: str, kwargs_key: tuple, kwargs: dict) -> list[str]:
        key = (text, kwargs_key)
        result = self.cache.get(key)
        if result is None:
            result = self._initials(text, kwargs) if kwargs_key == _INITIALS_KEY else None
            if result is None:
                result = self.real(text, **kwargs)
            if len(self.cache) < 500_000:
                self.cache[key] = result
        return result

    def _initials(self, text: str, kwargs: dict) -> list[str] | None:
        """pypinyin's FIRST_LETTER is the first letter of each syllable of its plain style: taken from
        the plain result (which search_document asks for next) when every piece of it is a syllable,
        instead of a second conversion (a person's name is seen once in each builder: ~35 µs saved)."""
        if not _ALL_CJK.fullmatch(text):  # a latin run ("ma") stays whole in pypinyin's initials
            return None
        plain = self._one(text, _PLAIN_KEY, {"errors": "default"})
        if all(piece in normalize.PINYIN_SYLLABLES for piece in plain):
            return [piece[0] for piece in plain]
        return None

    def __call__(self, text: str, **kwargs) -> list[str]:
        kwargs_key = tuple(sorted(kwargs.items()))
        words = self.words.get(text)
        if words is None:
            return list(self._one(text, kwargs_key, kwargs))
        out: list[str] = []
        for word in words:
            out += self._one(word, kwargs_key, kwargs)
        return out


class _CachedDocuments:
    """Stands in for `normalize.search_document` while generating: the tokens of each name are
    computed once (contacts' names repeat: a few thousand family and given name pairs) and joined
    per customer, as search_document joins them. Phones and the rest are unique, so not cached.

    A name's pinyin follows the words it was registered with (_WordPinyin), so they are part of the key.
    A registered name seen for the first time (company names are nearly all new) is put together from
    its words' pinyin, each computed once (`_joined`), instead of going through search_document.
    """

    def __init__(self, real: Callable, pinyin: _WordPinyin) -> None:
        self.real = real
        self.pinyin = pinyin
        self.cache: dict[tuple, tuple[str, str]] = {}
        self.pieces: dict[str, tuple[str, str, list[str]] | None] = {}

    def _piece(self, word: str) -> tuple[str, str, list[str]] | None:
        """A word's initials, full pinyin and syllables (lazy_pinyin's list), or None when the word's
        pieces, joined with the others', would not be what search_document computes for the joined name:
        the word must be searchable as it is and hold a Chinese character, and its pinyin plain ASCII
        (each character then stays as it is in `searchable`, so the joined texts do too)."""
        piece = self.pieces.get(word, False)
        if piece is False:
            piece = None
            if word and normalize.searchable(word) == word and normalize._CJK_CHAR.search(word):
                initials = "".join(self.pinyin.real(word, style=Style.FIRST_LETTER, errors="default"))
                syllables = list(self.pinyin.real(word, errors="default"))
                full = "".join(syllables)
                if all(text.isascii() and normalize.searchable(text) == text for text in (initials, full)):
                    piece = (initials, full, syllables)
            self.pieces[word] = piece
        return piece

    def _joined(self, name: str, words: tuple[str, ...]) -> tuple[str, str] | None:
        """search_document's names and pinyin of a name registered with `words` (its pinyin is theirs,
        _WordPinyin), from the words' pieces; None when a word does not allow it (see _piece)."""
        pieces = [self._piece(word) for word in words]
        if any(piece is None for piece in pieces) or "".join(words) != name:
            return None
        initials = "".join(piece[0] for piece in pieces)
        full = "".join(piece[1] for piece in pieces)
        syllables = [syllable for piece in pieces for syllable in piece[2]]
        pinyin = (normalize.grams(initials, normalize.PINYIN_GRAM) + normalize.grams(full, normalize.PINYIN_GRAM)
                  + normalize.syllable_pairs(syllables))
        return " ".join(normalize.grams(name, normalize.NAME_GRAM)), " ".join(pinyin)

    def __call__(self, *, names: list[str], phones: list[str], others: list[str]) -> normalize.SearchDocument:
        rest = self.real(names=[], phones=phones, others=others)
        name_parts: list[str] = []
        pinyin_parts: list[str] = []
        for name in names:
            if not name:
                continue
            words = self.pinyin.words.get(name)
            key = (name, words)
            part = self.cache.get(key)
            if part is None:
                part = self._joined(name, words) if words is not None else None
                if part is None:
                    doc = self.real(names=[name], phones=[], others=[])
                    part = (doc.names, doc.pinyin)
                if len(self.cache) < 200_000:
                    self.cache[key] = part
            if part[0]:
                name_parts.append(part[0])
            if part[1]:
                pinyin_parts.append(part[1])
        return normalize.SearchDocument(names=" ".join(name_parts), pinyin=" ".join(pinyin_parts),
                                        digits=rest.digits, other=rest.other)


_READ_APART: dict[tuple[str, str], bool] = {}


def _read_apart(first: str, second: str) -> bool:
    """Whether pypinyin reads first + second as it reads each of them alone: no phrase of its
    dictionary spans the two (it reads 于思琪 yu sai qi, 于 and 思琪 alone yu, si qi). Its segmenter
    matches dictionary phrases only, so without one across the boundary the words stay apart."""
    known = _READ_APART.get((first, second))
    if known is None:
        from pypinyin.constants import PHRASES_DICT

        text = first + second
        known = _READ_APART[first, second] = not any(
            text[i:j] in PHRASES_DICT for i in range(len(first)) for j in range(len(first) + 1, len(text) + 1))
    return known


def _register_person(family: str, given: str) -> None:
    """A person's name put together from its two parts' pinyin, computed once each (like a company's
    from its words), instead of each of a few thousand names converted once in every builder."""
    if _read_apart(family, given):
        _PINYIN.register(family + given, (family, given))


@contextlib.contextmanager
def _word_pinyin() -> Iterator[_WordPinyin]:
    real, real_document = normalize.lazy_pinyin, normalize.search_document
    fast = _WordPinyin(real)
    normalize.lazy_pinyin = fast
    normalize.search_document = _CachedDocuments(real_document, fast)
    try:
        yield fast
    finally:
        normalize.lazy_pinyin, normalize.search_document = real, real_document


# ---------------------------------------------------------------------------------------------
# Teams and users
# ---------------------------------------------------------------------------------------------


@dataclass
class DemoStaff:
    password: str
    created_users: int = 0
    created_teams: int = 0
    reps: dict[str, list[User]] = field(default_factory=dict)  # region team name → reps
    info: User | None = None
    users: list[User] = field(default_factory=list)
    # demo_staff(hash_later=True): the thread hashing the password, and the users that wait for it.
    hashing: threading.Thread | None = None
    hashed: list[str] = field(default_factory=list)
    unhashed: list[int] = field(default_factory=list)

    def set_passwords(self) -> None:
        """Give the users created with hash_later=True their password hash (once it is computed)."""
        if self.hashing is None:
            return
        self.hashing.join()
        # The thread failed (its error went to threading.excepthook): hash here, where an error is raised.
        password = self.hashed[0] if self.hashed else make_password(self.password)
        User.objects.filter(pk__in=self.unhashed).update(password=password)
        self.hashing = None
        self.unhashed = []


def demo_password() -> str:
    """The shared password of the demo users: generated once, kept in QIANKE_HOME (mode 600)."""
    path = Path(settings.QIANKE_HOME) / DEMO_PASSWORD_FILE
    if path.exists():
        return path.read_text().strip()
    password = "qk-" + secrets.token_urlsafe(9)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _person(rng: random.Random, gender: str | None = None) -> tuple[str, str, str]:
    gender = gender or _pick(rng, GENDERS)
    given = _pick(rng, GIVEN_MALE if gender == Gender.MALE else GIVEN_FEMALE)
    return _pick(rng, FAMILY_NAMES), given, gender


def demo_staff(*, seed: int = 1, reps_per_team: int = 4, hash_later: bool = False) -> DemoStaff:
    """Teams 销售部 → regional groups, 客服部 and 信息部, and users of every role (idempotent).

    `hash_later=True`: the password is hashed in a thread (PBKDF2 releases the GIL: ~0.3-0.5 s on
    the other core, a sixth of make run's demo) and the new users get it from `staff.set_passwords()`;
    until then they have an unusable password."""
    rng = random.Random(f"staff-{seed}")
    staff = DemoStaff(password=demo_password())
    if hash_later:
        staff.hashing = threading.Thread(target=lambda: staff.hashed.append(make_password(staff.password)),
                                         name="qianke-demo-password")
        staff.hashing.start()
    before_teams = Team.objects.count()
    sales = team_get_or_create(name="销售部")
    service_team = team_get_or_create(name="客服部")
    info_team = team_get_or_create(name="信息部")
    regions = {name: team_get_or_create(name=name, parent=sales) for name in REGIONS}
    staff.created_teams = Team.objects.count() - before_teams

    password_hash = None if hash_later else make_password(staff.password)
    existing = {u.username: u for u in User.objects.filter(username__startswith="demo.")}
    taken = set(existing)

    def user(key: str, role: str, team: Team | None) -> User:
        # Demo users are named demo.<key> so repeated runs find them; the full name is Chinese.
        username = f"demo.{key}"
        if username in existing:
            u = existing[username]
            if password_hash is None and not u.has_usable_password():  # a load stopped before set_passwords
                staff.unhashed.append(u.pk)
        else:
            family, given, _gender = _person(rng)
            u = user_create(username=username, role=role, team=team, full_name=family + given, validate=False)
            # One hash for all demo users: hashing costs ~0.25 s a time by design.
            if password_hash is None:
                staff.unhashed.append(u.pk)
            else:
                u.password = password_hash
                u.save(update_fields=["password"])
            staff.created_users += 1
            taken.add(username)
        staff.users.append(u)
        return u

    user("gm", Role.GM, None)
    user("director", Role.MANAGER, sales)
    staff.info = user("info", Role.INFO, info_team)
    user("service1", Role.SERVICE, service_team)
    user("service2", Role.SERVICE, service_team)
    for index, name in enumerate(REGIONS, start=1):
        user(f"manager{index}", Role.MANAGER, regions[name])
        staff.reps[name] = [user(f"sales{index}{n}", Role.SALES, regions[name]) for n in range(1, reps_per_team + 1)]
    return staff


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


def _mobile(rng: random.Random) -> str:
    return _pick(rng, MOBILE_PREFIXES) + f"{_below(rng, 10**8):08d}"


def _landline(rng: random.Random, area: str) -> str:
    return f"{area}-{_between(rng, 2, 8)}{_below(rng, 10**7):07d}"


def _address(rng: random.Random, brand: str) -> str:
    text = f"{_pick(rng, ROADS)}{_between(rng, 1, 999)}号"
    if rng.random() < 0.5:
        text += f"{brand}{_pick(rng, BUILDING_WORDS)}{_between(rng, 2, 28)}楼"
    return text


# Rows are plain dicts keyed by field attname (owner_id, customer_id…) turned into parameter lists
# for executemany: a Django model instance of this width costs ~70 µs to build and bulk_create's
# per-value preparation ~5 µs a column, each more than generating the whole row. Dates, decimals
# and JSON are converted as Django's SQLite and PostgreSQL backends do. Choices are their plain
# values, not enum members: a batch goes from a builder process to the writer pickled, and a
# member is pickled as a call that finds its class (unpickling took ~20 µs a customer).
Row = dict
STATUSES = tuple(Status.values)
STATUS_CUM = list(itertools.accumulate((55, 15, 15, 10, 5)))
NATURES = tuple(EnterpriseNature.values)
MODES = tuple(ProductionMode.values)
SCALES = tuple(Scale.values)
EDUCATIONS = tuple(Education.values)
ACTIVITY_KINDS = tuple(ActivityKind.values)
INDUSTRIES = tuple(i for i in Industry.values if i != Industry.INDIVIDUAL)
GENDERS = (Gender.MALE.value, Gender.FEMALE.value)
OTHER_RELATIONS = (RelationClass.SUPPLIER.value, RelationClass.PARTNER.value)
CITY_CUM = list(itertools.accumulate(CITY_WEIGHTS))


def _sqlite_datetime(value: dt.datetime) -> str:
    # Demo datetimes are in UTC, the connection's time zone with USE_TZ (Django stores naive UTC).
    if value.tzinfo is dt.UTC:
        return value.isoformat(" ")[:-6]  # without "+00:00": the same text, without a copy of the value
    return str(value.replace(tzinfo=None))


# COPY text format (PostgreSQL): NULL, and the characters a value must not hold unescaped.
_COPY_NULL = "\\N"
_COPY_UNSAFE = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_other(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


# A value's COPY text by its exact class; the text psycopg's dumpers give the same values.
_COPY_TEXT: dict[type, Callable[[object], str]] = {
    bool: lambda v: "t" if v else "f", int: str, Decimal: str, float: repr,
    dt.datetime: partial(dt.datetime.isoformat, sep=" "), dt.date: dt.date.isoformat,
}


def copy_text(value: object) -> str:
    """One value as a field of PostgreSQL's COPY text format."""
    if value is None:
        return _COPY_NULL
    if value.__class__ is str:
        return value.translate(_COPY_ESCAPES)
    return _COPY_TEXT.get(value.__class__, _copy_other)(value)


class BulkTable:
    def __init__(self, model, vendor: str, keys: tuple[str, ...] = (), late: tuple[str, ...] = ()) -> None:
        qn = connection.ops.quote_name
        fields = list(model._meta.concrete_fields)
        self.table = model._meta.db_table
        self.plan = []
        for f in fields:
            conv = None
            if isinstance(f, models.DateTimeField):
                conv = _sqlite_datetime if vendor == "sqlite" else None
            elif isinstance(f, models.DateField):
                # As the SQLite backend's adapters do (in the builders: less to pickle, no call per value here).
                conv = dt.date.isoformat if vendor == "sqlite" else None
            elif isinstance(f, models.DecimalField):
                conv = str if vendor == "sqlite" else None
            elif isinstance(f, models.JSONField):
                conv = partial(f.get_db_prep_save, connection=connection)
            default = None if f.primary_key else f.get_default()
            if conv is not None and default is not None:
                default = conv(default)
            self.plan.append((f.attname, conv, default))
        self.defaults = [(name, default) for name, _conv, default in self.plan]
        self.default_values = dict(self.defaults)
        self.converted = [(i, name, conv) for i, (name, conv, _default) in enumerate(self.plan) if conv]
        self.position = {f.attname: i for i, f in enumerate(fields)}
        columns = ", ".join(qn(f.column) for f in fields)
        self.sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        self.copy_sql = f"COPY {qn(self.table)} ({columns}) FROM STDIN"
        # Rows without their key columns (`keys`: ids the writer knows only when it writes the batch)
        # and without the `late` columns (values the writer computes: the lifecycle dates the
        # histories give), for the statements below, which list the key columns first, the late last.
        self.keys = keys
        self.late = late
        by_name = {f.attname: f for f in fields}
        ordered = ([by_name[k] for k in keys] + [f for f in fields if f.attname not in keys + late]
                   + [by_name[k] for k in late])
        columns = ", ".join(qn(f.column) for f in ordered)
        self.keyed_sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        self.keyed_copy_sql = f"COPY {qn(self.table)} ({columns}) FROM STDIN"
        rest = [(name, conv, default) for name, conv, default in self.plan if name not in keys + late]
        self.rest_defaults = {name: default for name, _conv, default in rest}
        self.rest_converted = [(i, name, conv) for i, (name, conv, _default) in enumerate(rest) if conv]
        self.text_defaults = {f.attname: copy_text(None if f.primary_key else f.get_default())
                              for f in fields if f.attname not in keys + late}
        self.late_converted = [next(conv for name, conv, _d in self.plan if name == k) for k in late]
        # SQLite: the rows' columns without the keys (a capability's generated key left to the table).
        rest_columns = ", ".join(qn(by_name[name].column) for name, _conv, _default in rest)
        self.rest_sql = f"INSERT INTO {qn(self.table)} ({rest_columns}) VALUES ({', '.join(['%s'] * len(rest))})"

    def offset_sql(self, *offsets: int) -> str:
        """keyed_sql whose key columns are given as local keys and turned into ids by the statement:
        the first len(offsets) parameters of a row are added to `offsets` (NULL stays NULL). SQLite:
        the builders' rows go in as they are, with no tuple made per row in the writing process."""
        keys = [f"%s + {int(offset)}" for offset in offsets]
        rest = ["%s"] * (len(self.plan) - len(offsets))
        return self.keyed_sql.rsplit(" VALUES ", 1)[0] + f" VALUES ({', '.join(keys + rest)})"

    def row(self, values: Row) -> list:
        # The defaults updated with the values, in column order (a dict keeps the order of its first
        # keys), then the few converted columns: a loop with a branch per column cost about a fifth
        # of building a customer. Values with keys that are not columns take the slower way.
        merged = {**self.default_values, **values}
        if len(merged) == len(self.defaults):
            out = list(merged.values())
        else:
            out = [values.get(name, default) for name, default in self.defaults]
        for i, name, conv in self.converted:
            v = values.get(name)
            if v is not None:
                out[i] = conv(v)
        return out

    def rest_row(self, values: Row) -> list:
        """The parameters of a row without the key columns (`keys`), in keyed_sql's order."""
        merged = {**self.rest_defaults, **values}
        if len(merged) != len(self.rest_defaults):
            raise ValueError(f"not columns of {self.table} without its keys: {set(merged) - set(self.rest_defaults)}")
        out = list(merged.values())
        previous: object = out  # no value is this list
        previous_value = None
        for i, name, conv in self.rest_converted:
            v = values.get(name)
            if v is not None:
                # created_at, updated_at and occurred_at are often one datetime: converted once.
                if v is previous:
                    out[i] = previous_value
                else:
                    previous, out[i] = v, conv(v)
                    previous_value = out[i]
        return out

    def text(self, values: Row) -> str:
        """A row without the key columns as a line of COPY text (no newline), in keyed_copy_sql's order.

        Built in the builder processes: the writer then sends whole batches as they are, instead of
        dumping every value of every row (psycopg's write_row) after unpickling the rows as objects."""
        merged = {**self.text_defaults, **values}
        if len(merged) != len(self.text_defaults):
            raise ValueError(f"not columns of {self.table} without its keys: {set(merged) - set(self.text_defaults)}")
        strings = []
        previous: object = merged  # no value is this dict
        previous_text = ""
        for name, value in values.items():
            if isinstance(value, str):  # choices too: str subclasses, joined as their text
                strings.append(value)
            elif value is previous:  # created_at, updated_at and occurred_at are often one datetime
                merged[name] = previous_text
            else:
                previous = value
                merged[name] = previous_text = (
                    _COPY_NULL if value is None else _COPY_TEXT.get(value.__class__, _copy_other)(value))
        # One search over all the text values of the row; demo text never needs escaping.
        if _COPY_UNSAFE.search("".join(strings)):
            for name, value in values.items():
                if isinstance(value, str):
                    merged[name] = value.translate(_COPY_ESCAPES)
        return "\t".join(merged.values())

    def new_ids(self, cursor, count: int) -> int:
        return reserve_ids(cursor, self.table, count)


class _Tables:
    def __init__(self, vendor: str, extra: tuple[type[models.Model], ...] = ()) -> None:
        # The lifecycle dates come last: the histories' rows give them, in the writer (LoadRows).
        self.customer = BulkTable(Customer, vendor, keys=("id",), late=("status_changed_at", "last_purchase_at"))
        self.contact = BulkTable(Contact, vendor, keys=("id", "customer_id"))
        self.activity = BulkTable(Activity, vendor, keys=("id", "customer_id", "contact_id"))
        self.search = BulkTable(CustomerSearch, vendor, keys=("customer_id",))
        # The capabilities' tables (LoadRows): ids from new_ids when the key is generated (histories,
        # origins), none to add when it is the customer's (qualifications).
        self.extra = {model: BulkTable(model, vendor, keys=(model._meta.pk.attname,)
                                       if isinstance(model._meta.pk, models.AutoField) else ())
                      for model in extra}
        # PostgreSQL: rows are built as COPY text (BulkTable.text); SQLite: parameter lists.
        self.copy = vendor == "postgresql"


class LoadedCustomer:
    """One customer as the load writes it, for the capabilities' rows (LoadRows). The histories set
    the lifecycle dates, which the load then writes into the customer's row."""

    __slots__ = ("id", "created_at", "status", "owner_id", "created_by_id", "first_contact_id",
                 "last_activity_at", "status_changed_at", "last_purchase_at")

    def __init__(self, id: int, created_at: dt.datetime, status: str, owner_id: int | None,  # noqa: A002
                 created_by_id: int, first_contact_id: int | None, last_activity_at: dt.datetime | None) -> None:
        self.id, self.created_at, self.status, self.owner_id = id, created_at, status, owner_id
        self.created_by_id, self.first_contact_id, self.last_activity_at = (
            created_by_id, first_contact_id, last_activity_at)
        self.status_changed_at: dt.datetime | None = None
        self.last_purchase_at: dt.datetime | None = None


@dataclass
class LoadRows:
    """A capability's demo rows written by the core load with its own, batch by batch, in the batch's
    transaction (`demo_generate(capabilities=True)`, which `qianke demo` uses): a module of
    CAPABILITY_DEMOS gives it from `demo_load_rows(seed=…, now=…)`.

    `rows` gets each batch's customers in id order and returns {label: rows as {attname: value}} for
    the models in `tables` ({label: model}); the labels name its counts. Its tables' plain indexes and
    foreign keys are suspended with the load's own (large loads). Writing them here instead of in a
    pass after the load saves reading a million customers back, and the histories' UPDATE of every
    customer (the load writes the lifecycle dates the histories set on LoadedCustomer).
    """

    tables: dict[str, type[models.Model]]
    rows: Callable[[list[LoadedCustomer]], dict[str, list[dict]]]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Batch:
    """One batch: rows without their key columns (parameter lists on SQLite, lines of COPY text on
    PostgreSQL) and the local keys of the contacts and follow-ups (customer i of the batch is row i
    of customers and of searches). `_write_batch` turns local keys into ids."""

    customers: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    activities: list = field(default_factory=list)
    searches: list = field(default_factory=list)
    contact_customers: list[int] = field(default_factory=list)
    activity_keys: list[tuple[int, int | None]] = field(default_factory=list)
    # Per customer, with LoadRows: (status, owner_id, created_by_id, local key of its first contact,
    # time of its last follow-up as ISO text). Its creation time is the job's: no datetime here, as a
    # pickled datetime is rebuilt by calls (with its time zone: ~6 µs each in the writer).
    facts: list[tuple] = field(default_factory=list)


@dataclass
class _Plan:
    """What every batch builder needs; workers inherit it when they are forked."""

    seed: int
    staff_reps: dict[str, list[tuple[int, int]]]  # region → (user id, team id)
    info_id: int
    now: dt.datetime
    today: dt.date
    tables: _Tables
    facts: bool = False  # the writer needs _Batch.facts (LoadRows)


_PLAN: _Plan | None = None
_PINYIN: _WordPinyin | None = None


class _Builder:
    def __init__(self, plan: _Plan, first: int) -> None:
        self.plan = plan
        self.rng = random.Random(f"{plan.seed}-{first}")
        self.tz = timezone.get_current_timezone()  # timezone.localdate(t) is t.astimezone(self.tz).date()

    def customer(self, created: dt.datetime, code: str) -> tuple[Row, list[Row], list[Row]]:
        rng = self.rng
        province, city, area, post, districts, region = CITIES[
            bisect.bisect_right(CITY_CUM, rng.random() * CITY_CUM[-1])]
        status = STATUSES[bisect.bisect_right(STATUS_CUM, rng.random() * STATUS_CUM[-1])]
        owned = status != Status.POTENTIAL or rng.random() < 0.8
        owner_id, team_id = _pick(rng, self.plan.staff_reps[region]) if owned else (None, None)
        c: Row = {
            "code": code, "created_at": created, "status": status, "province": province, "city": city,
            "district": _pick(rng, districts), "owner_id": owner_id, "team_id": team_id,
            "created_by_id": owner_id or self.plan.info_id,
            "relation_class": RelationClass.BUSINESS.value if rng.random() < 0.9 else _pick(rng,
                OTHER_RELATIONS),
            "potential_kind": (PotentialKind.COMPETITOR.value if rng.random() < 0.15
                               else PotentialKind.GENERAL.value) if status == Status.POTENTIAL else "",
            "postcode": f"{post}{_below(rng, 1000):03d}",
        }
        contacts: list[Row] = []
        if rng.random() < 0.8:
            self._organization(c, city, area, created, contacts)
        else:
            self._individual(c)
        # The demo's numbers are canonical already (_mobile, _landline): normalize_mobile would return a
        # mobile as it is and normalize_phone a landline without its hyphen (test_demo_builders).
        if c.get("mobile"):
            c["mobile_norm"] = c["mobile"]
        if c.get("phone"):
            c["phone_norm"] = c["phone"].replace("-", "")
        activities = self._activities(c, contacts, created)
        c["updated_at"] = activities[-1]["occurred_at"] if activities else created
        return c, contacts, activities

    def _organization(self, c: Row, city: str, area: str, created: dt.datetime, contacts: list[Row]) -> None:
        rng = self.rng
        industry = _pick(rng, INDUSTRIES)
        brand = _pick(rng, BRAND_CHARS) + _pick(rng, BRAND_CHARS)
        if industry in PUBLIC_BODIES:
            words: tuple[str, ...] = (city, _pick(rng, PUBLIC_BODIES[industry]))
            c["enterprise_nature"] = EnterpriseNature.OTHER.value
        else:
            region_word = city.removesuffix("市") if rng.random() < 0.85 else ""
            word = _pick(rng, INDUSTRY_WORDS[industry])
            suffix = _weighted(rng, COMPANY_SUFFIXES, COMPANY_SUFFIX_WEIGHTS)
            if "科技" in word and suffix == "科技有限公司":
                suffix = "有限公司"
            words = tuple(w for w in (region_word, brand, word, suffix) if w)
            if rng.random() < 0.6:
                c["short_name"] = brand + word
                _PINYIN.register(brand + word, (brand, word))
            c["enterprise_nature"] = _weighted(rng, NATURES, (12, 3, 10, 65, 10))
            c["production_mode"] = _weighted(rng, MODES, (50, 40, 10))
        name = "".join(words)
        _PINYIN.register(name, words)
        c.update(kind=Kind.ORGANIZATION.value, name=name, name_norm=normalize.normalize_company_name(name),
                 industry=industry, scale=_weighted(rng, SCALES, (25, 45, 22, 8)),
                 address=_address(rng, brand), phone=_landline(rng, area))
        if rng.random() < 0.3:
            c["fax"] = _landline(rng, area)
        if rng.random() < 0.2:
            c["mobile"] = _mobile(rng)
        for n in range(_weighted(rng, (1, 2, 3), (40, 40, 20))):
            family, given, gender = _person(rng)
            _register_person(family, given)
            contact: Row = {
                "name": family + given, "gender": gender, "title": _pick(rng, TITLES),
                "department": _pick(rng, DEPARTMENTS), "is_primary": n == 0, "created_at": created,
                "updated_at": created, "created_by_id": c["created_by_id"],
            }
            if rng.random() < 0.9:
                contact["mobile"] = contact["mobile_norm"] = _mobile(rng)  # canonical, as above
            if rng.random() < 0.3:
                extension = _between(rng, 800, 899)
                contact["phone"] = f"{c['phone']}转{extension}"
                contact["phone_norm"] = f"{c['phone'].replace('-', '')}-{extension}"  # normalize_phone's form
            if rng.random() < 0.2:
                contact["wechat"] = f"wx{_below(rng, 10**8):08d}"
            if rng.random() < 0.3:
                contact["birthday"] = dt.date(_between(rng, 1965, 1998), _between(rng, 1, 12), _between(rng, 1, 28))
            contacts.append(contact)

    def _individual(self, c: Row) -> None:
        rng = self.rng
        family, given, gender = _person(rng)
        _register_person(family, given)
        name = family + given
        c.update(
            kind=Kind.INDIVIDUAL.value, name=name, name_norm=normalize.normalize_person_name(name), gender=gender,
            industry=Industry.INDIVIDUAL.value, occupation=_pick(rng, OCCUPATIONS),
            birthday=dt.date(_between(rng, 1960, 2002), _between(rng, 1, 12), _between(rng, 1, 28)),
            annual_income=Decimal(_between(rng, 50, 799) * 1000), education=_pick(rng, EDUCATIONS),
            mobile=_mobile(rng), address=_address(rng, ""),
        )

    def _activities(self, c: Row, contacts: list[Row], created: dt.datetime) -> list[Row]:
        rng = self.rng
        count = _weighted(rng, (0, 1, 2, 3, 4), (25, 30, 22, 15, 8))
        if not count:
            return []
        owner_id = c["owner_id"]
        now = self.plan.now
        today = self.plan.today
        seconds = (now - created).total_seconds()
        times = sorted(created + dt.timedelta(seconds=rng.random() * seconds) for _ in range(count))
        contact_name = contacts[0]["name"] if contacts else c["name"]
        activities = []
        for n, occurred in enumerate(times):
            kind = _weighted(rng, ACTIVITY_KINDS, (25, 35, 10, 15, 15))
            a: Row = {
                "kind": kind, "occurred_at": occurred, "actor_id": owner_id or self.plan.info_id,
                "created_at": occurred, "updated_at": occurred, "outcome": _pick(rng, OUTCOMES),
                "content": _pick(rng, CONTENTS[kind]).format(p=_pick(rng, PRODUCTS), c=contact_name),
            }
            if n == count - 1:
                if owner_id is not None and c["status"] != Status.LOST and rng.random() < 0.7:
                    a["next_step"] = _pick(rng, NEXT_STEPS).format(c=contact_name)
                    r = rng.random()
                    if r < 0.15:
                        a["next_due"] = today
                    elif r < 0.45:
                        a["next_due"] = today - dt.timedelta(days=_between(rng, 1, 30))
                    else:
                        a["next_due"] = today + dt.timedelta(days=_between(rng, 1, 30))
            elif rng.random() < 0.5:
                a["next_step"] = _pick(rng, NEXT_STEPS).format(c=contact_name)
                a["next_due"] = occurred.astimezone(self.tz).date() + dt.timedelta(days=_between(rng, 1, 14))
                a["next_done_at"] = min(occurred + dt.timedelta(days=_between(rng, 1, 14)), now)
            activities.append(a)
        return activities


def _search_document(c: Row, contacts: list[Row]) -> normalize.SearchDocument:
    """customer_search_document of the customer and its contacts given as rows: the same lists of
    names, phones and others (test_demo_builders), without an object for each."""
    get = c.get
    names = [get("name", ""), get("short_name", "")]
    phones = [get("phone", ""), get("mobile", ""), get("fax", "")]
    others = [get("email", ""), get("code", "")]
    for contact in contacts:
        get = contact.get
        names.append(get("name", ""))
        phones += [get("phone", ""), get("mobile", "")]
        others.append(get("email", ""))
    return normalize.search_document(names=names, phones=phones, others=others)


def _build_batch(job: tuple[int, list[dt.datetime], list[str]]) -> _Batch:
    """Rows of one batch with local keys; runs in a worker process for large runs."""
    first, times, codes = job
    plan = _PLAN
    tables = plan.tables
    customer_row, contact_row, activity_row, search_row = (
        (t.text if tables.copy else t.rest_row) for t in (tables.customer, tables.contact, tables.activity,
                                                           tables.search))
    builder = _Builder(plan, first)
    batch = _Batch()
    copy = tables.copy
    # SQLite: each row starts with its local keys, which the writer's statements turn into ids
    # (BulkTable.offset_sql); PostgreSQL: the writer puts the ids in front of the COPY lines.
    late = [None] * len(tables.customer.late)
    for local_id, (created, code) in enumerate(zip(times, codes, strict=True)):
        c, contacts, activities = builder.customer(created, code)
        contact_id = len(batch.contacts) if contacts else None
        for contact in contacts:
            if copy:
                batch.contacts.append(contact_row(contact))
                batch.contact_customers.append(local_id)
            else:
                row = contact_row(contact)
                row[0:0] = (len(batch.contacts), local_id)
                batch.contacts.append(row)
        for a in activities:
            if copy:
                batch.activities.append(activity_row(a))
                batch.activity_keys.append((local_id, contact_id))
            else:
                row = activity_row(a)
                row[0:0] = (len(batch.activities), local_id, contact_id)
                batch.activities.append(row)
        doc = _search_document(c, contacts)
        if copy:
            batch.customers.append(customer_row(c))
            batch.searches.append(search_row({"names": doc.names, "pinyin": doc.pinyin, "digits": doc.digits,
                                              "other": doc.other}))
        else:
            row = customer_row(c)
            row.insert(0, local_id)
            row += late  # the lifecycle dates: set by the writer (LoadRows) or left NULL
            batch.customers.append(row)
            batch.searches.append((local_id, doc.names, doc.pinyin, doc.digits, doc.other))
        if plan.facts:
            batch.facts.append((c["status"], c["owner_id"], c["created_by_id"], contact_id,
                                activities[-1]["occurred_at"].isoformat() if activities else None))
    _PINYIN.forget()
    return batch


def _capability_rows(tables: _Tables, batch: _Batch, times: list[dt.datetime], loads: list[LoadRows], base: int,
                     contact_base: int) -> tuple[list[tuple], list[tuple[BulkTable, list[dict]]]]:
    """The lifecycle dates of the batch's customers and the capabilities' rows (LoadRows), drawn here,
    in the writing process, in id order: each capability's random draws come in the order its pass
    after the load made them (one generator over all customers, the same rows)."""
    parse = dt.datetime.fromisoformat
    loaded = [LoadedCustomer(base + i, created, status, owner_id, by, None if first is None else contact_base + first,
                             None if last is None else parse(last))
              for i, (created, (status, owner_id, by, first, last)) in enumerate(zip(times, batch.facts, strict=True))]
    extra = []
    for load in loads:
        for label, rows in load.rows(loaded).items():
            extra.append((tables.extra[load.tables[label]], rows))
            load.counts[label] = load.counts.get(label, 0) + len(rows)
    return [(c.status_changed_at, c.last_purchase_at) for c in loaded], extra


def _keys(table: BulkTable, cursor, count: int) -> list[str]:
    """COPY: the key columns of `count` new rows of a capability's table: new ids as the line's first
    field, or nothing when the rows carry their key (a customer's)."""
    if not table.keys or not count:
        return [""] * count
    first = table.new_ids(cursor, count)
    return [f"{i}\t" for i in range(first, first + count)]


def _write_batch(tables: _Tables, batch: _Batch, times: list[dt.datetime], loads: list[LoadRows] = (),
                 beside: search.Fts5Beside | None = None) -> None:
    """Give the batch its ids and insert it, with the capabilities' rows (`loads`); the caller owns the
    transaction. SQLite: the search rows go to `beside` too, the FTS5 index built beside the load."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Demo rows can be generated again: no need to wait for the WAL flush of every batch.
            # Only this transaction is affected (a crash may lose the last batches, never half of one).
            cursor.execute("SET LOCAL synchronous_commit = off")
        base = tables.customer.new_ids(cursor, len(batch.customers))
        contact_base = tables.contact.new_ids(cursor, len(batch.contacts))
        activity_base = tables.activity.new_ids(cursor, len(batch.activities))
        late: list[tuple] = []
        extra: list[tuple[BulkTable, list[dict]]] = []
        if loads:
            late, extra = _capability_rows(tables, batch, times, loads, base, contact_base)
        if tables.copy:
            customers = range(base, base + len(batch.customers))
            contacts = [(contact_base + i, base + c) for i, c in enumerate(batch.contact_customers)]
            activities = [(activity_base + i, base + c, _COPY_NULL if k is None else contact_base + k)
                          for i, (c, k) in enumerate(batch.activity_keys)]
            extra_keys = [_keys(table, cursor, len(rows)) for table, rows in extra]
            # COPY: one statement per table and batch, the builders' lines with the ids in front.
            # (executemany sends each row as its own statement, which the server parses and plans anew.)
            if late:
                customer_lines = [f"{i}\t{line}\t{copy_text(changed)}\t{copy_text(purchase)}\n"
                                  for i, line, (changed, purchase) in zip(customers, batch.customers, late, strict=True)]
            else:
                customer_lines = [f"{i}\t{line}\t\\N\t\\N\n" for i, line in zip(customers, batch.customers, strict=True)]
            texts = (
                (tables.customer, customer_lines),
                (tables.contact, [f"{i}\t{c}\t{line}\n" for (i, c), line in zip(contacts, batch.contacts, strict=True)]),
                (tables.activity, [f"{i}\t{c}\t{k}\t{line}\n"
                                   for (i, c, k), line in zip(activities, batch.activities, strict=True)]),
                (tables.search, [f"{i}\t{line}\n" for i, line in zip(customers, batch.searches, strict=True)]),
                *((table, [f"{prefix}{table.text(row)}\n" for prefix, row in zip(keys, rows, strict=True)])
                  for (table, rows), keys in zip(extra, extra_keys, strict=True)),
            )
            for table, lines in texts:
                if lines:
                    with cursor.cursor.copy(table.keyed_copy_sql) as copy:
                        copy.write("".join(lines))
            return
        # SQLite: the builders' rows as they are, their local keys made ids by the statements.
        if late:
            count = len(late[0])
            convert = tables.customer.late_converted
            for row, dates in zip(batch.customers, late, strict=True):
                row[-count:] = [v if v is None or f is None else f(v) for f, v in zip(convert, dates, strict=True)]
        for table, offsets, rows in ((tables.customer, (base,), batch.customers),
                                     (tables.contact, (contact_base, base), batch.contacts),
                                     (tables.activity, (activity_base, base, contact_base), batch.activities),
                                     (tables.search, (base,), batch.searches)):
            if rows:
                cursor.executemany(table.offset_sql(*offsets), rows)
        if beside is not None and batch.searches:
            beside.add(batch.searches, base)  # (local id, names, pinyin, digits, other)
        # The capabilities' rows: their generated keys left to the table (nothing refers to them here).
        for table, rows in extra:
            if rows:
                rest_row = table.rest_row
                cursor.executemany(table.rest_sql, [rest_row(r) for r in rows])


BULK_TABLES = ("customers_customer", "customers_contact", "activities_activity", "customers_customersearch")


class _PgTail:
    """PostgreSQL, a load into near-empty tables: the plain indexes and the foreign keys of the bulk
    tables are dropped for the load (recorded in SuspendedIndex first, see restore_suspended_indexes)
    and afterwards built and validated, and the tables vacuumed: as jobs of the two sessions that
    build the GIN indexes of the search table (`jobs`), or by `finish` alone when the load fails
    before those builds.

    What it saves: B-tree inserts into 16 indexes of the customer table and ~20 more a customer, and a
    deferred trigger query per foreign key and row at commit (~12 a customer; Django's keys are
    DEFERRABLE INITIALLY DEFERRED), against a sort-based build per index and one anti-join per key
    (ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT) at the end. Rows other sessions write
    meanwhile are checked by the validation too: a violation makes it fail and that key stays NOT
    VALID (still enforced for new rows) and recorded. Outside a transaction only (ALTER TABLE refuses
    to run while deferred checks are pending).
    """

    def __init__(self, *, vacuum: bool, tables: tuple[str, ...] = BULK_TABLES) -> None:
        self.vacuum = vacuum
        self.tables = tables
        self.indexes: list[tuple[str, str]] = []
        self.keys: list[tuple[str, str]] = []
        self.started = self.finished = False
        self.validated: list[str] = []
        self.built: list[str] = []
        self.errors: list[BaseException] = []
        self.vacuumed: list[str] = []

    def suspend(self, *, plain_indexes: bool, foreign_keys: bool) -> None:
        restore_suspended_indexes()
        if plain_indexes:
            self.indexes = suspend_plain_indexes(self.tables)
        if foreign_keys:
            self.keys = suspend_foreign_keys(self.tables)

    def jobs(self) -> list[Callable[[object], None]]:
        """For search.bulk_index_suspended (`then`), before its GIN builds: builds the plain indexes and
        adds the keys back NOT VALID here, and gives the validations and VACUUMs as jobs for the two
        build sessions. They run while the longest GIN build (pinyin) still does: 1,000,000 customers
        left a core idle for ~10 s of the builds, then spent ~10 s on these in one session. Those of
        the search table come last: they wait for its builds (CREATE INDEX locks the table)."""
        self.started = True
        add_missing_keys(self.keys)
        search_table = CustomerSearch._meta.db_table
        jobs = [partial(self._build, name, sql) for name, sql in self.indexes]
        jobs += [partial(self._validate, key) for key, _sql in self.keys if key_names(key)[0] != search_table]
        if self.vacuum:
            jobs.append(partial(self._vacuum, ("customers_customer", "customers_contact")))
            jobs += [partial(self._analyze, (table,)) for table in self._capability_tables]
        jobs += [partial(self._validate, key) for key, _sql in self.keys if key_names(key)[0] == search_table]
        if self.vacuum:
            jobs.append(partial(self._vacuum, (search_table,)))
        return jobs

    def _validate(self, key: str, cursor) -> None:
        import psycopg

        table, name = key_names(key)
        qn = connection.ops.quote_name
        try:
            # One anti-join over the table instead of a trigger query per row.
            cursor.execute(f"ALTER TABLE {qn(table)} VALIDATE CONSTRAINT {qn(name)}")
        except (DatabaseError, psycopg.Error) as exc:
            self.errors.append(exc)  # the others are validated still; this one stays NOT VALID
        else:
            self.validated.append(key)

    def _build(self, name: str, sql: str, cursor) -> None:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(if_not_exists(sql))
        cursor.execute("RESET maintenance_work_mem")
        self.built.append(name)

    def _analyze(self, tables: tuple[str, ...], cursor) -> None:
        cursor.execute(f"ANALYZE {', '.join(tables)}")

    def _vacuum(self, tables: tuple[str, ...], cursor) -> None:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")
        self.vacuumed += tables

    def finish(self) -> None:
        """Build, validate and vacuum once (later calls do nothing); after `jobs` ran, only forget the
        validated keys and raise the first validation error."""
        from qianke.core.models import SuspendedIndex

        if self.finished:
            return
        self.finished = True
        if self.started:
            SuspendedIndex.objects.filter(name__in=self.validated + self.built).delete()
            if self.errors:
                # The second session's errors are the driver's: raised as Django's, like this session's.
                with connection.wrap_database_errors:
                    raise self.errors[0]
            return
        if self.indexes:
            rebuild_plain_indexes(self.indexes)
        if self.keys:
            add_foreign_keys(self.keys)
        if self.vacuum:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE customers_customer, customers_contact")
                if self._capability_tables:
                    cursor.execute(f"ANALYZE {', '.join(self._capability_tables)}")
            self.vacuumed += ("customers_customer", "customers_contact")

    @property
    def _capability_tables(self) -> tuple[str, ...]:
        """The capabilities' tables (LoadRows) are analysed, not vacuumed: a VACUUM reads every page
        (the five tables took 2.4 s in one session at 100,000 customers), and autovacuum visits tables
        that grew by inserts soon after anyway; their statistics are what the next queries need."""
        return tuple(t for t in self.tables if t not in BULK_TABLES)


def _month_starts(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The first instants of the local months that begin after `start`, up to `end`."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(start)
    year, month = local.year, local.month
    starts = []
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        first = dt.datetime(year, month, 1, tzinfo=tz)
        if first > end:
            return starts
        starts.append(first)


def _jobs(*, customers: int, batch_size: int, seed: int, start: dt.datetime, span: float):
    """(first index, creation times, codes) per batch. Times grow with the index, so newer ids are
    newer customers; codes are allocated here in one block per month of the batch."""
    rng = random.Random(f"times-{seed}")
    # Times grow, so a batch splits where a month begins (found by bisection), instead of each time's
    # month being formatted (~4 µs a customer in the writing process).
    month_starts = _month_starts(start, start + dt.timedelta(seconds=span))
    for first in range(0, customers, batch_size):
        indexes = range(first, min(first + batch_size, customers))
        times = [start + dt.timedelta(seconds=span * (i + rng.random()) / customers) for i in indexes]
        codes: list[str] = []
        month_start = 0
        while month_start < len(times):
            later = bisect.bisect_right(month_starts, times[month_start])
            end = bisect.bisect_left(times, month_starts[later]) if later < len(month_starts) else len(times)
            codes += allocate_codes(prefix=CODE_PREFIX, count=end - month_start, when=times[month_start])
            month_start = end
        yield first, times, codes


def _prefetched(pool, jobs, *, ahead: int):
    pending: deque = deque()
    for job in jobs:
        pending.append((job, pool.apply_async(_build_batch, (job,))))
        if len(pending) > ahead:
            job, result = pending.popleft()
            yield job, result.get()
    while pending:
        job, result = pending.popleft()
        yield job, result.get()


def demo_generate(
    *,
    customers: int,
    seed: int = 1,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
    workers: int | None = None,
    suspend_index: bool | None = None,
    capabilities: bool = False,
) -> dict[str, Any]:
    """Create demo staff (once) and `customers` customers with contacts and follow-ups.

    Returns the counts written and the demo users' password. `progress(done, total)` is called
    after every batch (one transaction each). Large runs build rows in a forked worker process
    while this one writes; `workers=0` keeps everything in this process. Large runs also suspend the
    full-text index and rebuild it at the end (`suspend_index`, by default from BULK_INDEX_ALWAYS_FROM
    customers, and from BULK_INDEX_FROM when the tables hold no more customers than the load).
    `capabilities=True` writes the capabilities' demo rows that they give as LoadRows with each batch
    (counts under "capabilities": {module: counts}); demo_capabilities does the rest after the load.
    """
    global _PLAN, _PINYIN
    if isinstance(customers, bool) or not isinstance(customers, int) or not 0 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be a whole number from 0 to {MAX_CUSTOMERS:,}")
    staff = demo_staff(seed=seed, hash_later=True)
    end = (now or timezone.now()).astimezone(dt.UTC)
    start = end - dt.timedelta(days=365 * YEARS_BACK)
    counts: dict[str, Any] = {
        "customers": 0, "contacts": 0, "activities": 0, "users": staff.created_users,
        "teams": staff.created_teams, "password": staff.password,
    }
    loads = _capability_loads(seed=seed, now=end) if capabilities else {}
    extra_models = tuple(model for load in loads.values() for model in load.tables.values())
    bulk_tables = BULK_TABLES + tuple(model._meta.db_table for model in extra_models)
    tables = _Tables(connection.vendor, extra_models)
    _PLAN = _Plan(
        seed=seed, info_id=staff.info.pk, now=end, today=timezone.localdate(end), tables=tables,
        staff_reps={region: [(u.pk, u.team_id) for u in reps] for region, reps in staff.reps.items()},
        facts=bool(loads),
    )
    if suspend_index is None:
        suspend_index = customers >= BULK_INDEX_ALWAYS_FROM or (
            customers >= BULK_INDEX_FROM and Customer.objects.count() <= customers)
    if workers is None:
        # With the index suspended this process only inserts rows, so two builders keep it busy.
        workers = (2 if suspend_index else 1) if customers >= BULK_INDEX_FROM and (os.cpu_count() or 1) > 1 else 0
    jobs = _jobs(customers=customers, batch_size=batch_size, seed=seed, start=start,
                 span=(end - start).total_seconds())
    # The cycle collector off while loading (and in the processes forked meanwhile): a few hundred lists
    # and dicts a customer, none in a cycle, each few hundred starting a collection (builders ~7 %
    # faster, a batch unpickled in the writer in ~4 µs a customer instead of up to ~19).
    with _word_pinyin() as pinyin, collector_paused(), contextlib.ExitStack() as stack:
        stack.callback(staff.set_passwords)  # left last
        _PINYIN = pinyin
        tail: _PgTail | None = None
        beside: search.Fts5Beside | None = None
        # The early capability steps (pools before the indexes) touch every customer there is: only
        # when the load's customers are all there is (`qianke demo` leaves older customers alone).
        started_empty = not Customer.objects.exists()
        if suspend_index:
            into_empty = not connection.in_atomic_block and Customer.objects.count() <= customers
            if into_empty and connection.vendor == "postgresql":
                # Plain indexes and foreign keys dropped for the load, built and validated after it, in
                # the GIN build sessions (tail.jobs); the callback is left after those builds and does
                # the rest, or all of it when the search index's suspension fails.
                tail = _PgTail(vacuum=customers >= VACUUM_FROM, tables=bulk_tables)
                stack.callback(tail.finish)
                tail.suspend(plain_indexes=PG_SUSPEND_PLAIN_INDEXES, foreign_keys=PG_SUSPEND_FOREIGN_KEYS)
            # SQLite: the FTS5 index built beside the load, on the other core (search.Fts5Beside).
            beside = stack.enter_context(search.bulk_index_suspended(
                then=tail.jobs if tail is not None else None, beside=connection.vendor == "sqlite"))
            if into_empty and tail is None:
                # Entered after the search index's suspension, so left before it: the plain indexes are
                # built while the FTS5 build process still inserts its last batches (~0.7 s of 100,000).
                stack.enter_context(plain_indexes_suspended(bulk_tables))
        if workers:
            # fork: the workers inherit the plan and never touch the database connection. Jobs are
            # made here (codes are allocated on this thread's connection), two batches ahead.
            staff.set_passwords()  # no thread of this process runs in OpenSSL when it forks
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(workers))
            built = _prefetched(pool, jobs, ahead=workers + 1)
        else:
            if beside is not None:
                staff.set_passwords()  # its first rows fork the FTS5 build: no thread may be in OpenSSL then
            built = ((job, _build_batch(job)) for job in jobs)
        for job, batch in built:
            with transaction.atomic():
                _write_batch(tables, batch, job[1], list(loads.values()), beside)
            counts["customers"] += len(batch.customers)
            counts["contacts"] += len(batch.contacts)
            counts["activities"] += len(batch.activities)
            if progress:
                progress(counts["customers"], customers)
        early = (_capability_early_steps(seed=seed) if capabilities and tail is not None and started_empty
                 else {})
    _PLAN = _PINYIN = None
    if loads or early:
        counts["capabilities"] = {name: load.counts or dict.fromkeys(load.tables, 0) for name, load in loads.items()}
        counts["capabilities"].update(early)
    if customers >= VACUUM_FROM:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA optimize")
            elif connection.in_atomic_block:
                cursor.execute("ANALYZE customers_customer, customers_contact, customers_customersearch")
            else:
                # VACUUM too: its visibility map lets the visibility filter of a search read only the
                # owner index (index-only scan), and autovacuum may be late or off (it is on the bench
                # machine); 7 s for a million customers.
                # The tail of a load into empty tables did some or all already (_PgTail).
                done = tail.vacuumed if tail is not None else ()
                tables = [t for t in ("customers_customer", "customers_contact", "customers_customersearch")
                          if t not in done]
                if tables:  # VACUUM without a table would vacuum the whole database
                    cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")
    return counts


# Capability apps' demo data, run by `qianke demo` after demo_generate when the module exists.
CAPABILITY_DEMOS = ("qianke.customers.demo", "qianke.leads.demo", "qianke.qualification.demo", "qianke.pool.demo",
                    "qianke.pipeline.demo", "qianke.dedupe.demo")
CAPABILITY_DEMO_FUNCTIONS = ("demo_generate", "demo_data", "generate")
# A capability module's rows written by the core load itself (LoadRows), when it defines this.
CAPABILITY_LOAD_FUNCTION = "demo_load_rows"
# A capability module's demo step that a PostgreSQL load into empty tables runs after its rows, before
# the tail builds their indexes, when the module defines it: a step that updates many of the loaded
# rows costs less then (the pools' UPDATE of ~44,000 customers: ~130 µs a row with the customer
# table's 20 indexes in place). `qianke demo` still calls the module's demo function after the load,
# which then finds the work done.
CAPABILITY_EARLY_FUNCTION = "demo_before_indexes"


def _capability_modules(modules: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """The capability modules that exist, by name (a missing one has no demo data yet)."""
    import importlib

    for name in modules:
        try:
            yield name, importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise


def _capability_loads(*, seed: int, now: dt.datetime, modules: tuple[str, ...] = CAPABILITY_DEMOS
                      ) -> dict[str, LoadRows]:
    loads = {}
    for name, module in _capability_modules(modules):
        hook = getattr(module, CAPABILITY_LOAD_FUNCTION, None)
        load = hook(seed=seed, now=now) if callable(hook) else None
        if load is not None:
            loads[name] = load
    return loads


def _capability_early_steps(*, seed: int, modules: tuple[str, ...] = CAPABILITY_DEMOS) -> dict[str, dict]:
    """Run the capabilities' CAPABILITY_EARLY_FUNCTION steps, in CAPABILITY_DEMOS order; their counts."""
    results = {}
    for name, module in _capability_modules(modules):
        step = getattr(module, CAPABILITY_EARLY_FUNCTION, None)
        if callable(step):
            result = step(seed=seed)
            results[name] = result if isinstance(result, dict) else {}
    return results


def demo_capabilities(*, seed: int = 1, customers: int | None = None, now: dt.datetime | None = None,
                      modules: tuple[str, ...] = CAPABILITY_DEMOS, loaded: dict[str, dict] | None = None,
                      done: Callable[[str, dict], None] | None = None,
                      customers_from: int | None = None) -> dict[str, dict]:
    """Call each capability's demo function (the first of CAPABILITY_DEMO_FUNCTIONS it defines) with
    the keyword arguments it accepts of seed, customers, now and customers_from; a missing module is skipped.
    `customers_from`: the first id of the demo's own customers — the functions then leave every customer
    before it alone (`qianke demo` on a database with real customers must not invent their sources,
    grades, deals or pool entries, nor rename them into duplicates).
    `loaded` (demo_generate's counts["capabilities"]): rows the load wrote, added to the module's
    counts; its function still runs, for customers that existed before the load without rows (it
    finds them by one anti-join: 0.2 s for the three at 100,000 customers on PostgreSQL). Returns {module: its counts (a dict,
    or {} when it returns something else)}."""
    import inspect

    results: dict[str, dict] = {}
    offered = {"seed": seed, "customers": customers, "now": now, "customers_from": customers_from}
    for name, module in _capability_modules(modules):
        func = next((getattr(module, f) for f in CAPABILITY_DEMO_FUNCTIONS if callable(getattr(module, f, None))), None)
        if func is None:
            continue
        params = inspect.signature(func).parameters
        kwargs = {k: v for k, v in offered.items() if k in params and v is not None}
        result = func(**kwargs)
        results[name] = result if isinstance(result, dict) else {}
        if loaded and name in loaded:
            results[name] = {key: loaded[name].get(key, 0) + results[name].get(key, 0)
                             for key in {**loaded[name], **results[name]}}
        if done is not None:  # each module as it finishes: at a million customers they take minutes
            done(name, results[name])
    return results
