"""A Chinese company list with duplicates and hard negatives, for measuring duplicate detection.

Fixed seed, no external data. Each entity is one real company; its rows are written the ways
exhibition catalogues, 114 look-ups and old archives write them: suffix variants (有限公司 / 有限责任公司
/ 股份有限公司 / none), the city as a prefix, in brackets or left out, traditional characters,
homophones, full-width digits, phones in a dozen formats, missing fields, typos in addresses.
Hard negatives that must stay apart: the same brand in other cities (北京星辰科技 vs 上海星辰科技),
branch offices (星辰科技有限公司上海分公司), and sister companies of one group (星辰科技 / 星辰物流,
often at the group's address and with the group's mail domain).

    python bench/zh_companies.py OUT.csv [--entities N] [--seed S]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from pathlib import Path

from pypinyin import lazy_pinyin

# city, province, area code, postcode prefix, districts
CITIES = [
    ("北京", "北京市", "010", "100", ["海淀区", "朝阳区", "东城区", "西城区", "丰台区", "昌平区"]),
    ("上海", "上海市", "021", "200", ["浦东新区", "徐汇区", "静安区", "闵行区", "长宁区", "杨浦区"]),
    ("天津", "天津市", "022", "300", ["和平区", "河西区", "南开区", "滨海新区"]),
    ("重庆", "重庆市", "023", "400", ["渝中区", "江北区", "沙坪坝区", "九龙坡区"]),
    ("广州", "广东省", "020", "510", ["天河区", "越秀区", "海珠区", "白云区", "番禺区"]),
    ("深圳", "广东省", "0755", "518", ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区"]),
    ("东莞", "广东省", "0769", "523", []),
    ("佛山", "广东省", "0757", "528", ["禅城区", "南海区", "顺德区"]),
    ("杭州", "浙江省", "0571", "310", ["西湖区", "上城区", "拱墅区", "滨江区", "萧山区"]),
    ("宁波", "浙江省", "0574", "315", ["海曙区", "江北区", "鄞州区"]),
    ("温州", "浙江省", "0577", "325", ["鹿城区", "龙湾区", "瓯海区"]),
    ("南京", "江苏省", "025", "210", ["玄武区", "秦淮区", "鼓楼区", "江宁区"]),
    ("苏州", "江苏省", "0512", "215", ["姑苏区", "吴中区", "相城区", "虎丘区"]),
    ("无锡", "江苏省", "0510", "214", ["梁溪区", "滨湖区", "新吴区"]),
    ("武汉", "湖北省", "027", "430", ["江岸区", "武昌区", "洪山区", "汉阳区"]),
    ("成都", "四川省", "028", "610", ["锦江区", "青羊区", "武侯区", "成华区"]),
    ("西安", "陕西省", "029", "710", ["雁塔区", "碑林区", "新城区", "未央区"]),
    ("沈阳", "辽宁省", "024", "110", ["和平区", "沈河区", "皇姑区", "铁西区"]),
    ("济南", "山东省", "0531", "250", ["历下区", "市中区", "槐荫区"]),
    ("青岛", "山东省", "0532", "266", ["市南区", "市北区", "黄岛区", "崂山区"]),
    ("郑州", "河南省", "0371", "450", ["中原区", "二七区", "金水区"]),
    ("长沙", "湖南省", "0731", "410", ["芙蓉区", "天心区", "岳麓区", "开福区"]),
    ("合肥", "安徽省", "0551", "230", ["瑶海区", "庐阳区", "蜀山区", "包河区"]),
    ("福州", "福建省", "0591", "350", ["鼓楼区", "台江区", "仓山区"]),
    ("厦门", "福建省", "0592", "361", ["思明区", "湖里区", "集美区"]),
    ("昆明", "云南省", "0871", "650", ["五华区", "盘龙区", "官渡区"]),
    ("南宁", "广西壮族自治区", "0771", "530", ["青秀区", "兴宁区", "西乡塘区"]),
    ("石家庄", "河北省", "0311", "050", ["长安区", "桥西区", "新华区"]),
    ("哈尔滨", "黑龙江省", "0451", "150", ["道里区", "南岗区", "香坊区"]),
    ("大连", "辽宁省", "0411", "116", ["中山区", "西岗区", "沙河口区", "甘井子区"]),
]
BRAND_CHARS = ("华星辰远航金桥宏达恒信瑞丰盛世嘉禾鼎新博雅天成明德安泰永顺通利富康隆兴汇源中联东方"
               "万通鑫海润泽启明creation光大新锐卓越凯旋龙腾凤祥云帆德昌正道国泰民安力源佳美宝丽百盛"
               "和谐晨曦宇航天宇立信诚达华联众诚同创银河长江黄河泰山华夏神州九州")
BRAND_CHARS = "".join(dict.fromkeys(c for c in BRAND_CHARS if "\u4e00" <= c <= "\u9fff"))
INDUSTRIES = ["科技", "电子", "贸易", "机械", "医药", "食品", "建材", "物流", "化工", "纺织", "服装", "软件",
              "信息技术", "电器", "汽车配件", "环保科技", "新能源", "餐饮管理", "印刷", "包装", "五金",
              "照明", "家具", "光电", "仪器仪表", "农业发展", "文化传媒", "教育咨询", "建筑工程", "医疗器械"]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "公司", "有限公司", "有限公司"]
ROADS = ["人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "科技路", "长江路",
         "黄河路", "工业大道", "创业路", "学院路", "东风路", "青年路", "光明路", "迎宾大道", "滨江路", "金融街"]
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏宇浩凯"
MOBILE_PREFIXES = ["130", "131", "135", "136", "137", "138", "139", "150", "151", "158", "159", "186", "187",
                   "188", "189", "177", "199"]
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _credit_code(rng: random.Random) -> str:
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
        rng.choice(CREDIT_CHARS) for _ in range(9))
    total = sum(CREDIT_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def _s2t() -> dict[str, str]:
    table = {}
    path = Path(__file__).resolve().parents[1] / "qianke" / "core" / "data" / "t2s.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        traditional, simplified = line.split("\t")
        table.setdefault(simplified, traditional)
    return table


def _homophones() -> dict[str, list[str]]:
    pool = set(BRAND_CHARS) | set("话画化划桦骅铧哗兴星新心欣鑫馨辛信昕芯杏幸型形行醒腾藤誊疼"
                                  "达大答打搭德得的地第弟帝递源元园原圆员远院愿缘猿圆援辕沅媛")
    by_sound: dict[str, list[str]] = {}
    for char in pool:
        by_sound.setdefault(lazy_pinyin(char)[0], []).append(char)
    return {c: [o for o in by_sound[lazy_pinyin(c)[0]] if o != c] for c in pool}


class Generator:
    def __init__(self, seed: int = 20261122) -> None:
        self.rng = random.Random(seed)
        self.s2t = _s2t()
        self.homophones = _homophones()
        self.used_names: set[str] = set()

    # ----- entities -----
    def _brand(self) -> str:
        # Two characters while they last, then three: a million rows need more brands than pairs give.
        pairs = len(BRAND_CHARS) * (len(BRAND_CHARS) - 1)
        size = 2 if len(self.used_names) < pairs // 2 else 3
        return "".join(self.rng.sample(BRAND_CHARS, size))

    def _person(self) -> str:
        return self.rng.choice(FAMILY) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def _mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + "".join(self.rng.choice("0123456789") for _ in range(8))

    def _landline(self, area: str) -> str:
        digits = 8 if len(area) == 3 else self.rng.choice((7, 8))
        return area + self.rng.choice("2345678") + "".join(self.rng.choice("0123456789") for _ in range(digits - 1))

    def entity(self, brand: str, industry: str, city_index: int, *, group_address: str | None = None,
               group_domain: str | None = None) -> dict:
        city, province, area, postcode, districts = CITIES[city_index]
        district = self.rng.choice(districts) if districts else ""
        address = group_address or f"{district}{self.rng.choice(ROADS)}{self.rng.randint(1, 999)}号"
        domain = group_domain or "".join(lazy_pinyin(brand + industry))[:14] + self.rng.choice((".com", ".com.cn", ".cn"))
        return {
            "brand": brand, "industry": industry, "city": city, "province": province, "area": area,
            "postcode": postcode + f"{self.rng.randint(0, 999):03d}", "address": address,
            "phone": self._landline(area), "mobile": self._mobile(), "contact": self._person(),
            "email": self.rng.choice(("sales", "info", "contact", "office", "hr", "service")) + "@" + domain,
            "credit_code": _credit_code(self.rng), "suffix": self.rng.choice(SUFFIXES), "branch": "",
        }

    def entities(self, count: int) -> Iterator[dict]:
        """Entities in families: a brand, its namesakes in other cities, its branches and sister companies."""
        made = 0
        while made < count:
            brand = self._brand()
            if brand in self.used_names:
                continue
            self.used_names.add(brand)
            industry = self.rng.choice(INDUSTRIES)
            home = self.rng.randrange(len(CITIES))
            head = self.entity(brand, industry, home)
            family = [head]
            roll = self.rng.random()
            if roll < 0.25:  # the same name in other cities: unrelated companies
                for other in self.rng.sample([i for i in range(len(CITIES)) if i != home], self.rng.randint(1, 3)):
                    # An unrelated company has its own domain, typically with its city in it.
                    domain = "".join(lazy_pinyin(CITIES[other][0] + brand)) + self.rng.choice((".com", ".cn"))
                    family.append(self.entity(brand, industry, other, group_domain=domain))
            elif roll < 0.4:  # branch offices of the head company in other cities
                for other in self.rng.sample([i for i in range(len(CITIES)) if i != home], self.rng.randint(1, 3)):
                    branch = self.entity(brand, industry, other, group_domain=head["email"].split("@")[1])
                    branch["branch"] = CITIES[other][0]
                    branch["suffix"] = head["suffix"]
                    branch["home_city"] = head["city"]
                    family.append(branch)
            elif roll < 0.6:  # sister companies of a group: same brand, other business, same city
                for sister in self.rng.sample([i for i in INDUSTRIES if i != industry], self.rng.randint(1, 3)):
                    shared = self.rng.random() < 0.5
                    family.append(self.entity(
                        brand, sister, home, group_address=head["address"] if shared else None,
                        group_domain=head["email"].split("@")[1] if shared else None))
            for entity in family:
                if made >= count:
                    break
                made += 1
                yield entity

    # ----- how a row writes an entity -----
    def name(self, e: dict, clean: bool) -> str:
        rng = self.rng
        core = e["brand"] + e["industry"]
        suffix = e["suffix"] if clean else rng.choice(SUFFIXES + ["", "集团有限公司" if rng.random() < 0.1 else ""])
        if e["branch"]:
            head = f"{core}{suffix or '有限公司'}"
            if e.get("home_city") and rng.random() < 0.3:
                head = e["home_city"] + head
            return head + e["branch"] + "分公司"
        if not clean and rng.random() < 0.15:  # a homophone typed by ear
            i = rng.randrange(len(e["brand"]))
            options = self.homophones.get(e["brand"][i])
            if options:
                core = core[:i] + rng.choice(options) + core[i + 1 :]
        placement = "prefix" if clean else rng.choice(("prefix", "prefix_city", "bracket", "bracket_full", "none"))
        city = e["city"]
        if placement == "prefix":
            name = city + core + suffix
        elif placement == "prefix_city":
            name = (city + "市" if e["province"] != city + "市" or rng.random() < 0.5 else city) + core + suffix
        elif placement == "bracket":
            name = f"{core}({city}){suffix}"
        elif placement == "bracket_full":
            name = f"{core}（{city}）{suffix}"
        else:
            name = core + suffix
        if not clean and rng.random() < 0.15:
            name = "".join(self.s2t.get(c, c) for c in name)
        if not clean and rng.random() < 0.05:
            name = name[:2] + " " + name[2:]
        return name

    def phone(self, e: dict, clean: bool) -> str:
        area, number = e["area"], e["phone"][len(e["area"]) :]
        if clean:
            return f"{area}-{number}"
        half = len(number) // 2
        return self.rng.choice((
            f"{area}-{number}", f"({area}){number}", f"{area} {number[:half]} {number[half:]}",
            f"+86 {area[1:]} {number}", f"0086-{area[1:]}-{number}", f"{area}{number}", f"{area}-{number}转8{half}",
            f"（{area}）{number[:half]}-{number[half:]}", "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c
                                                               for c in f"{area}-{number}"),
        ))

    def mobile(self, e: dict, clean: bool) -> str:
        m = e["mobile"]
        if clean:
            return m
        return self.rng.choice((m, f"{m[:3]}-{m[3:7]}-{m[7:]}", f"{m[:3]} {m[3:7]} {m[7:]}", f"+86 {m}", f"+86-{m}"))

    def address(self, e: dict, clean: bool) -> str:
        rng = self.rng
        province = "" if e["province"].startswith(e["city"]) else e["province"]
        city = e["city"] + "市"
        rest = e["address"]
        if clean:
            return province + city + rest
        style = rng.random()
        if style < 0.3:
            text = city + rest
        elif style < 0.5:
            text = e["city"] + rest
        else:
            text = province + city + rest
        if rng.random() < 0.1 and len(rest) > 4:  # a typo
            i = rng.randrange(len(text) - 1)
            text = text[:i] + text[i + 1 :]
        return text

    def row(self, entity_id: str, e: dict, clean: bool) -> dict:
        rng = self.rng
        keep = (lambda p: True) if clean else (lambda p: rng.random() < p)
        return {
            "entity": entity_id,
            "name": self.name(e, clean),
            "phone": self.phone(e, clean) if keep(0.75) else "",
            "mobile": self.mobile(e, clean) if keep(0.5) else "",
            "email": (e["email"].upper() if not clean and rng.random() < 0.1 else e["email"]) if keep(0.5) else "",
            "address": self.address(e, clean) if keep(0.75) else "",
            "postcode": e["postcode"] if keep(0.4) else "",
            "contact": e["contact"] if keep(0.6) else "",
            "credit_code": e["credit_code"] if (clean and rng.random() < 0.3) or keep(0.1) else "",
        }

    def rows(self, entities: int) -> list[dict]:
        out = []
        for number, entity in enumerate(self.entities(entities)):
            entity_id = f"E{number:06d}"
            out.append(self.row(entity_id, entity, clean=True))
            if self.rng.random() < 0.5:
                for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
                    out.append(self.row(entity_id, entity, clean=False))
        self.rng.shuffle(out)
        for number, row in enumerate(out):
            row["id"] = f"R{number:07d}"
        return out


FIELDS = ["id", "entity", "name", "phone", "mobile", "email", "address", "postcode", "contact", "credit_code"]


def generate(entities: int = 3000, seed: int = 20261122) -> list[dict]:
    return Generator(seed).rows(entities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--entities", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rows = generate(args.entities, args.seed)
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows):,} rows of {args.entities:,} companies → {args.out}")


if __name__ == "__main__":
    main()
