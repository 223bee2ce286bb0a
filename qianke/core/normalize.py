"""The one normalisation module: names, phones, e-mail, postcodes, codes and search tokens.

Forms, the API, import and duplicate checks all call these functions, so a value is cleaned and
validated the same way wherever it enters. Stored values keep what the user typed; canonical forms
computed here live beside them for matching and search.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NOT_SEARCHABLE = re.compile(rf"[^0-9a-z{_CJK}]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_SPACES = re.compile(r"\s+")
_BRACKETS = re.compile(r"[()\[\]{}<>（）【】〔〕《》「」『』]")

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
LEGAL_FORM_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "总公司",
    "分公司",
    "公司",
    "集团",
)


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to half-width (NFKC), ideographic space to space."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def parse_date(value: object) -> dt.date:
    """A date from a date, a datetime or text such as 2026-11-22, 2026/11/22 or 2026年11月22日.

    Raises ValueError when the text is not a real date; callers attach their field's message.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = to_halfwidth(str(value)).strip().replace("/", "-").replace(".", "-").removesuffix("日")
    text = text.replace("年", "-").replace("月", "-")
    return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))


def clean_text(text: str | None) -> str:
    """Trim and collapse whitespace; keep the characters the user typed."""
    if not text:
        return ""
    return _SPACES.sub(" ", str(text)).strip()


def normalize_company_name(name: str) -> str:
    """Canonical name for duplicate checks: half-width, simplified characters, lower case, no spaces or
    brackets, no legal form.

    北京华为技术有限公司, 北京 华为技术 有限责任公司 and 北京華為技術有限公司 all give 北京华为技术.
    """
    text = to_simplified(to_halfwidth(name)).lower()
    text = _SPACES.sub("", text)
    text = _BRACKETS.sub("", text)
    # Repeat, so 娃哈哈集团有限公司, 娃哈哈集团公司 and 娃哈哈集团 all give 娃哈哈.
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_FORM_SUFFIXES:
            if text.endswith(suffix):
                if len(text) > len(suffix):
                    text = text[: -len(suffix)]
                    stripped = True
                break
    return text


def normalize_person_name(name: str) -> str:
    """Half-width, simplified characters, lower case, no spaces: 陳 大文 and 陈大文 give 陈大文."""
    return _SPACES.sub("", to_simplified(to_halfwidth(name)).lower())


def searchable(text: str | None) -> str:
    """Lower-case half-width text with only digits, latin letters and CJK characters kept."""
    if not text:
        return ""
    return _NOT_SEARCHABLE.sub("", to_halfwidth(text).lower())


# ---------------------------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑–—.()（）/]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: the 3-digit ones are 010 and 02x (8-digit local numbers); all others have 4 digits
# starting 03–09 (7–8 digit local numbers). Service numbers 400/800; 95xxx short numbers.
_LANDLINE = re.compile(r"^(?:0(?:10|2\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7}|[2-9]\d{6,7})$")
_SERVICE = re.compile(r"^(400|800)\d{7}$|^95\d{3,6}$|^1[01]\d{3}$")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
# 010-62345678-801: a dash and 1-6 digits after a complete landline number with its area code.
_DASH_EXTENSION = re.compile(r"^(.*\d)\s*[-‐‑–—]\s*(\d{1,6})$")


def _strip_country_code(digits: str) -> str:
    for prefix in ("0086", "+86", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            return digits[len(prefix) :]
    return digits


def normalize_mobile(value: str) -> str:
    """A mainland mobile number as its 11 digits; raises ValidationError if it is not one."""
    raw = to_halfwidth(value).strip()
    digits = _strip_country_code(_PHONE_SEPARATORS.sub("", raw))
    if not _MOBILE.match(digits):
        raise ValidationError(
            _("Enter a valid mobile number: 11 digits starting with 1, e.g. 138 1234 5678."),
            code="invalid_mobile",
        )
    return digits


def _compact_phone(raw: str) -> str:
    """Separators dropped and a country code taken off (+86 21 … gets the area code's trunk 0 back)."""
    compact = _PHONE_SEPARATORS.sub("", raw)
    if compact.startswith("+86") or compact.startswith("0086"):
        compact = _strip_country_code(compact)
        if not compact.startswith("0") and not _MOBILE.match(compact):
            compact = "0" + compact  # +86 21 … drops the trunk 0 of the area code
    return compact


def normalize_phone(value: str) -> str:
    """Canonical digits of a landline, service or mobile number; an extension follows after '-'.

    010-6234 5678 转 801 → 01062345678-801; +86 (21) 5555-1234 → 02155551234.
    """
    raw = to_halfwidth(value).strip()
    extension = ""
    if match := _EXTENSION.search(raw):
        extension = match.group(1)
        raw = raw[: match.start()]
    elif (match := _DASH_EXTENSION.match(raw)) and (front := _compact_phone(match.group(1))).startswith("0") \
            and _LANDLINE.match(front):
        extension = match.group(2)
        raw = match.group(1)
    compact = _compact_phone(raw)
    if not compact.isdigit():
        raise ValidationError(
            _("Enter a valid phone number, e.g. 010-6234 5678 or 138 1234 5678."), code="invalid_phone"
        )
    if not (_MOBILE.match(compact) or _LANDLINE.match(compact) or _SERVICE.match(compact)):
        raise ValidationError(
            _("Enter a valid phone number, e.g. 010-6234 5678 or 138 1234 5678."), code="invalid_phone"
        )
    return f"{compact}-{extension}" if extension else compact


_NON_DIGIT = re.compile(r"\D")


def national_number(digits: str) -> str:
    """The number without the country code, as normalize_phone gives it, from the digits of one typed
    with +86 or 0086 (8613800138000 → 13800138000; 861062345678 and 8601062345678 → 01062345678);
    "" when the digits do not start with a country code before a whole mainland number."""
    if not (digits.startswith("86") or digits.startswith("0086")):
        return ""
    rest = digits[4:] if digits.startswith("0086") else digits[2:]
    if _MOBILE.match(rest):
        return rest
    landline = rest if rest.startswith("0") else "0" + rest
    return landline if _LANDLINE.match(landline) and len(landline) >= 10 else ""


def phone_digits(value: str | None) -> str:
    """Digits only, for search tokens; never raises."""
    if not value:
        return ""
    return _NON_DIGIT.sub("", to_halfwidth(value))


# ---------------------------------------------------------------------------------------------
# Other fields
# ---------------------------------------------------------------------------------------------

_email_validator = EmailValidator(message=_("Enter a valid e-mail address, e.g. name@example.com."))
_POSTCODE = re.compile(r"^\d{6}$")
# KH, year and month, then a six-digit number, or seven or eight digits (no leading zero) in a month
# that holds more than 999,999 customers (core.codes).
CUSTOMER_CODE = re.compile(r"^KH\d{6}(?:\d{6}|[1-9]\d{6,7})$")


def normalize_email(value: str) -> str:
    email = to_halfwidth(value).strip()
    _email_validator(email)
    return email.lower()


def normalize_postcode(value: str) -> str:
    code = to_halfwidth(value).strip()
    if not _POSTCODE.match(code):
        raise ValidationError(_("A postcode has 6 digits, e.g. 100080."), code="invalid_postcode")
    return code


def validate_customer_code(value: str) -> str:
    code = to_halfwidth(value).strip().upper()
    if not CUSTOMER_CODE.match(code):
        raise ValidationError(
            _("A customer code is KH followed by 12 digits, e.g. KH202611000123."), code="invalid_code"
        )
    return code


# ---------------------------------------------------------------------------------------------
# Pinyin and search tokens
# ---------------------------------------------------------------------------------------------


def pinyin_full(text: str) -> str:
    """北京华为 → beijinghuawei (non-Chinese characters kept as they are)."""
    return searchable("".join(lazy_pinyin(searchable(text), errors="default")))


# Every toneless syllable pypinyin gives a character (ü as v), but the interjections m, n and hm:
# with them nearly any vowel-final text would split in several ways ("anhui" as a-n-hui).
_SYLLABLE_TABLE = """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai can cang cao ce cei
cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou
cu cuan cui cun cuo da dai dan dang dao de den deng di dian diao die din ding diu dong dou du duan dui dun duo e ei en
eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui
gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin
jing jiong jiu ju juan jue jun ka kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan
lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve ma mai man mang mao me
mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin
ning niu nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi
qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
sa sai san sang sao se sen seng sha shai shan shang shao she shen sheng shi shou shu shua shuai shuan shuang shui shun
shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa
wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye
yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng
zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
"""
PINYIN_SYLLABLES = frozenset(_SYLLABLE_TABLE.split())
_LONGEST_SYLLABLE = max(map(len, PINYIN_SYLLABLES))
# Each syllable and the syllables it begins (xi: xi, xia, xian, … xiu), for a last syllable half typed.
_SYLLABLES_BY_START = {s: sorted(t for t in PINYIN_SYLLABLES if t.startswith(s)) for s in PINYIN_SYLLABLES}
# A query that splits into syllables in more ways than this is looked up by its grams instead.
MAX_SYLLABLE_SPLITS = 4


def pinyin_syllable_splits(text: str) -> list[tuple[str, ...]]:
    """Every way to write `text` as whole syllables (xian → [xian], [xi, an]); [] when there is none or
    more than MAX_SYLLABLE_SPLITS."""
    if not text or len(text) > 60:
        return []
    # splits[i]: the splits of text[i:], built from the end.
    splits: list[list[tuple[str, ...]]] = [[] for _ in range(len(text))] + [[()]]
    for start in range(len(text) - 1, -1, -1):
        found: list[tuple[str, ...]] = []
        for end in range(start + 1, min(start + _LONGEST_SYLLABLE, len(text)) + 1):
            if text[start:end] in PINYIN_SYLLABLES:
                found += [(text[start:end], *rest) for rest in splits[end]]
                if len(found) > MAX_SYLLABLE_SPLITS:
                    return []
        splits[start] = found
    return splits[0]


def syllable_pairs(words: list[str]) -> list[str]:
    """Tokens of neighbouring syllables (bei jing hua → beijing jinghua), each run of syllables ended by
    its last syllable on its own, so that a phrase of pairs never runs on into the next run or name.
    `words` is lazy_pinyin's output: syllables, and the text between Chinese characters as it is."""
    tokens: list[str] = []
    run: list[str] = []
    for word in (*words, ""):
        if word in PINYIN_SYLLABLES:
            run.append(word)
            continue
        if len(run) >= 2:
            tokens += [run[i] + run[i + 1] for i in range(len(run) - 1)]
            tokens.append(run[-1])
        run = []
    return tokens


def pinyin_initials(text: str) -> str:
    """北京华为 → bjhw; latin words and digits contribute their characters."""
    parts = lazy_pinyin(searchable(text), style=Style.FIRST_LETTER, errors="default")
    return searchable("".join(parts))


# Gram sizes per search column. A query at least this long becomes a phrase of its grams; a
# shorter one a prefix query. Bigrams suit Chinese names; 4-grams keep phone lists short.
NAME_GRAM, PINYIN_GRAM, DIGIT_GRAM, OTHER_GRAM = 2, 3, 4, 3


def grams(text: str, size: int) -> list[str]:
    """Overlapping grams of `size`, then the shorter tails, so every substring is a phrase or prefix."""
    return [text[i : i + size] for i in range(len(text))]


def whole_grams(text: str, size: int) -> list[str]:
    """Overlapping grams of `size` only, without the shorter tails: for a column that no query reads
    as a prefix (digits: a digit query has at least DIGIT_GRAM digits, so it is always a phrase of
    whole grams). A text shorter than `size` gives no gram: no such query can match it."""
    return [text[i : i + size] for i in range(len(text) - size + 1)]


@dataclass(frozen=True)
class SearchDocument:
    """The four token columns of one customer's search entry (space-separated grams)."""

    names: str
    pinyin: str
    digits: str
    other: str


def search_document(
    *, names: list[str], phones: list[str], others: list[str]
) -> SearchDocument:
    """Tokens for the full-text index: names (and their pinyin), phone digits, e-mail and code."""
    name_tokens: list[str] = []
    pinyin_tokens: list[str] = []
    digit_tokens: list[str] = []
    other_tokens: list[str] = []
    for name in names:
        # Simplified, as the query is (search_clauses): 騰訊 and 腾讯 find each other.
        text = searchable(to_simplified(name)) if name else ""
        if not text:
            continue
        name_tokens += grams(text, NAME_GRAM)
        if _CJK_CHAR.search(text):
            pinyin_tokens += grams(pinyin_initials(text), PINYIN_GRAM)
            words = lazy_pinyin(text, errors="default")
            pinyin_tokens += grams(searchable("".join(words)), PINYIN_GRAM)
            # Whole syllables next to each other: a query of whole syllables is one token per pair,
            # which GIN/FTS5 answer exactly; its grams (zho hou oux uxi xin ing for zhouxing) also occur
            # apart in many names (oux, uxi: every 有限, youxian).
            pinyin_tokens += syllable_pairs(words)
    for phone in phones:
        digits = phone_digits(phone)
        if len(digits) >= DIGIT_GRAM:
            digit_tokens += whole_grams(digits, DIGIT_GRAM)
            # A number typed with +86: its national form too, which a query without the code gives.
            if national := national_number(digits):
                digit_tokens += whole_grams(national, DIGIT_GRAM)
    for other in others:
        text = searchable(other)
        if text:
            other_tokens += grams(text, OTHER_GRAM)
            digits = phone_digits(other)
            if len(digits) >= DIGIT_GRAM:
                digit_tokens += whole_grams(digits, DIGIT_GRAM)
    return SearchDocument(
        names=" ".join(name_tokens),
        pinyin=" ".join(pinyin_tokens),
        digits=" ".join(digit_tokens),
        other=" ".join(other_tokens),
    )


@dataclass(frozen=True)
class SearchClause:
    """One alternative of a query: a phrase of tokens in one column, its last token a prefix when
    `prefix` (a query shorter than a gram; syllable pairs, whose last syllable may be half typed)."""

    column: str  # names | pinyin | digits | other
    tokens: tuple[str, ...]
    prefix: bool = False
    # With a prefix: every whole token the last one can be (syllable pairs: zhouxi → zhouxi, zhouxia,
    # … zhouxing), which indexes look up exactly instead of scanning every token the prefix starts.
    completions: tuple[str, ...] = ()


def _clause(column: str, text: str, size: int) -> SearchClause:
    if len(text) < size:
        return SearchClause(column, (text,), prefix=True)
    return SearchClause(column, tuple(text[i : i + size] for i in range(len(text) - size + 1)))


def search_clauses(query: str) -> list[SearchClause]:
    """The alternatives a search box query stands for; an empty list means nothing to look for."""
    text = searchable(to_simplified(query)) if query else ""
    if not text:
        return []
    if _CJK_CHAR.search(text):
        return [_clause("names", text, NAME_GRAM)]
    if text.isdigit():
        clauses = [_clause("names", text, NAME_GRAM)]
        if len(text) >= DIGIT_GRAM:
            clauses.append(_clause("digits", text, DIGIT_GRAM))
        # +86 138 0013 8000, 008613800138000: also the national number, as phones are indexed.
        if national := national_number(text):
            clauses.append(_clause("digits", national, DIGIT_GRAM))
        return clauses
    return [
        _clause("names", text, NAME_GRAM),
        *_pinyin_clauses(text),
        _clause("other", text, OTHER_GRAM),
    ]


# Shorter latin queries are mostly initials (xk, bjhw), which whole-syllable splits would miss.
SYLLABLE_QUERY_MIN = 4


def _pinyin_clauses(text: str) -> list[SearchClause]:
    """Whole syllables (zhouxi, zhouxing, beijinghua) match syllables of a name in a row, the last one
    possibly half typed (xi of xing): a phrase of syllable pairs per way to split the query, its last
    pair a prefix. Anything else (initials, a text that does not split, one syllable) matches anywhere
    in the pinyin, as a phrase of its grams."""
    splits = pinyin_syllable_splits(text) if len(text) >= SYLLABLE_QUERY_MIN else []
    # The readings with the fewest syllables: tian-jia, not ti-an-ji-a, whose short last pair (jia) is
    # the start of very many tokens. A one-syllable reading keeps the grams, which find every reading.
    fewest = min(map(len, splits), default=0)
    splits = [s for s in splits if len(s) == fewest]
    by_pairs: dict[tuple[str, ...], SearchClause] = {}  # chan-gan and chang-an: one clause
    for split in splits:
        if len(split) < 2:
            continue
        pairs = tuple(split[i] + split[i + 1] for i in range(len(split) - 1))
        completions = tuple(split[-2] + s for s in _SYLLABLES_BY_START[split[-1]])
        if pairs in by_pairs:
            completions = tuple(dict.fromkeys(by_pairs[pairs].completions + completions))
        by_pairs[pairs] = SearchClause("pinyin", pairs, prefix=True, completions=completions)
    clauses = list(by_pairs.values())
    if not clauses or any(len(s) == 1 for s in splits):
        clauses.append(_clause("pinyin", text, PINYIN_GRAM))
    return clauses


# ---------------------------------------------------------------------------------------------
# Traditional → simplified characters
# ---------------------------------------------------------------------------------------------

_DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    table: dict[int, str] = {}
    with open(_DATA / "t2s.tsv", encoding="utf-8") as f:
        for line in f:
            traditional, simplified = line.rstrip("\n").split("\t")
            if _in_gb2312(traditional):  # a standard simplified character too (乾, 於, 甯): kept as it is
                continue
            table[ord(traditional)] = simplified
    return table


def _in_gb2312(character: str) -> bool:
    try:
        character.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=1)
def _traditional_characters() -> frozenset[str]:
    return frozenset(map(chr, _t2s_table()))


def to_simplified(text: str) -> str:
    """Traditional characters to simplified, one character at a time (華為 → 华为)."""
    if _traditional_characters().isdisjoint(text):  # most text: half the cost of translating it
        return text
    return text.translate(_t2s_table())


def canonical_text(text: str | None) -> str:
    """Half-width, simplified, lower case, single spaces: the base every matching key starts from."""
    if not text:
        return ""
    return _SPACES.sub(" ", to_simplified(to_halfwidth(str(text))).lower()).strip()


# ---------------------------------------------------------------------------------------------
# Administrative divisions (GB/T 2260 codes) and addresses
# ---------------------------------------------------------------------------------------------

# Longest first. A short form is only used where what remains has two or more characters, so 吉林省
# gives 吉林 but 和平区 is not cut to 和平 (there are several 和平区).
_DIVISION_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县", "地区", "新区",
    "省", "市", "区", "县", "盟", "旗",
)
_ETHNIC = re.compile(r"(?:[\u4e00-\u9fff]{1,3}族)+(?=自治[州县])")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province | city | district
    parent: str  # code of the province (for a city) or city (for a district); "" for a province


def _short_division_name(name: str) -> str:
    base = _ETHNIC.sub("", name)
    for suffix in _DIVISION_SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 2:
            return base[: -len(suffix)]
    return base


@lru_cache(maxsize=1)
def _divisions() -> tuple[dict[str, Division], dict[str, list[Division]]]:
    """Divisions by code, and by every name they are written with (full and short)."""
    by_code: dict[str, Division] = {}
    by_name: dict[str, list[Division]] = {}
    with open(_DATA / "divisions.tsv", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            code, name, level, parent = line.rstrip("\n").split("\t")
            division = Division(code, name, level, parent)
            by_code[code] = division
            # 市辖区 / 省直辖县级行政区划 are placeholders, not places anyone writes.
            if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                continue
            for written in {name, _short_division_name(name)}:
                by_name.setdefault(written, []).append(division)
    return by_code, by_name


@lru_cache(maxsize=1)
def _division_prefixes() -> dict[str, tuple[int, ...]]:
    """First two characters of every written division name → the lengths of such names, longest first."""
    lengths: dict[str, set[int]] = {}
    for name in _divisions()[1]:
        lengths.setdefault(name[:2], set()).add(len(name))
    return {prefix: tuple(sorted(sizes, reverse=True)) for prefix, sizes in lengths.items()}


def division(code: str) -> Division | None:
    return _divisions()[0].get(code)


@dataclass(frozen=True)
class ParsedAddress:
    province: str  # full official names, "" where unknown
    city: str
    district: str
    rest: str  # the address after the recognised divisions, canonical text without spaces
    code: str  # the most precise division code found

    @property
    def locality(self) -> str:
        """City-level place for comparing two addresses (the province for 北京, 上海, 天津, 重庆)."""
        if self.city:
            return self.city
        return self.province if self.code[:2] in _MUNICIPALITIES else ""


_MUNICIPALITIES = {"11", "12", "31", "50"}
_MAX_DIVISION_NAME = 12


def _province_of(div: Division) -> str:
    return div.code[:2]


@lru_cache(maxsize=65536)
def parse_address(text: str | None, *, short_districts: bool = False, in_name: bool = False) -> ParsedAddress:
    """Province, city and district read off the start of a free-text address.

    广东省深圳市南山区科技园 → 广东省 / 深圳市 / 南山区 / 科技园; 深圳南山区… works too (the province is
    inferred from the city). Unknown places give empty parts; nothing raises. Unless short_districts,
    a district written without 区/县/市 counts only after its city (泽州教育 is not 泽州县, and 津市河西区
    with 天 left out is not 津市市); after 北京, 上海, 天津 or 重庆, which are their own city, too
    (北京海淀上地 is 海淀区), except `in_name` (a company name: 上海宝山钢铁 keeps 宝山钢铁 as its core).
    A division written again is passed over: 北京市北京市海淀区 (province and city, as customers store a
    municipality) and 广东省深圳市南山区广东省深圳市南山区… (the parts put before an address that has them
    already) — written short, only where another division follows (深圳市南山区南山大道 keeps 南山大道).
    """
    by_code, _by_name = _divisions()
    found, _first, rest = _read_divisions(text, short_districts, in_name)
    province = found.get("province")
    city = found.get("city")
    district = found.get("district")
    if district and not city:
        city = by_code.get(district.parent)
    if city and not province:
        province = by_code.get(city.parent)
    if province and not city and _province_of(province) in _MUNICIPALITIES:
        city = None
    city_name = city.name if city and city.name not in ("市辖区", "县") else ""
    if province and _province_of(province) in _MUNICIPALITIES:
        city_name = ""
    most_precise = district or city or province
    return ParsedAddress(
        province=province.name if province else "",
        city=city_name,
        district=district.name if district else "",
        rest=rest,
        code=most_precise.code if most_precise else "",
    )


def _read_divisions(text: str | None, short_districts: bool = False,
                    in_name: bool = False) -> tuple[dict[str, Division], str, str]:
    """The divisions written at the start of the text by level, the name the first of them was
    written with, and the text after them (parse_address)."""
    by_name = _divisions()[1]
    prefixes = _division_prefixes()
    rest = searchable(to_simplified(text or ""))
    found: dict[str, Division] = {}
    first = ""
    municipal = False  # a municipality found: it is the city too
    while rest:
        match: Division | None = None
        length = 0
        repeat = 0
        for size in prefixes.get(rest[:2], ()):
            if size > len(rest):
                continue
            candidates = by_name.get(rest[:size])
            if not candidates:
                continue
            match = _pick_division(candidates, found, rest[:size] if not short_districts else "",
                                   municipal=municipal and not in_name)
            if match is not None:
                length = size
                break
            if not repeat and _repeats(candidates, found, rest[:size], rest[size:], municipal and not in_name):
                repeat = size
        if match is None and repeat:
            rest = rest[repeat:]
            continue
        if match is None and municipal and rest.startswith("市辖区"):
            rest = rest[3:]
            continue
        if match is None or match.level in found:
            break
        found[match.level] = match
        first = first or rest[:length]
        municipal = municipal or (match.level == "province" and _province_of(match) in _MUNICIPALITIES)
        rest = rest[length:]
    return found, first, rest


def _repeats(candidates: list[Division], found: dict[str, Division], written: str, after: str,
             municipal: bool) -> bool:
    """`written` names a division already found again: in full, or short with another division after it."""
    if not any(found.get(c.level) == c for c in candidates):
        return False
    if any(written == c.name for c in candidates):
        return True
    for size in _division_prefixes().get(after[:2], ()):
        others = _divisions()[1].get(after[:size]) if size <= len(after) else None
        if others and any(o.code.startswith(next(iter(found.values())).code[:2]) for o in others):
            return True
    return False


def _pick_division(candidates: list[Division], found: dict[str, Division], written: str = "", *,
                   municipal: bool = False) -> Division | None:
    """The candidate consistent with what was already found (a district inside the city found)."""
    for candidate in candidates:
        if candidate.level in found:
            continue
        if (written and candidate.level == "district" and written != candidate.name and "city" not in found
                and not municipal):
            continue
        if "province" in found and not candidate.code.startswith(found["province"].code[:2]):
            continue
        # Written after a smaller division (天河区北京市…): only the one that holds it.
        if any(not f.code.startswith(candidate.code) for f in found.values() if len(f.code) > len(candidate.code)):
            continue
        if "city" in found and candidate.level == "district" and not candidate.code.startswith(found["city"].code[:4]):
            continue
        return candidate
    return None


# What follows a place name when it is a street's, a gate's or an airport's name instead.
_STREET_AFTER = re.compile(r"^[东西南北中]?(?:路|街|道|大街|大道|巷|门|机场|桥|胡同|弄|里)")


def address_divisions(text: str | None) -> tuple[str, str, str]:
    """(province, city, district) of an address as customers store them, in full official names: a
    municipality is its own city (北京市海淀区… → 北京市, 北京市, 海淀区). Only what the address tells
    for sure: nothing when it starts with a place that several divisions are called and no province
    says which (和平区…: 天津 or 沈阳; 朝阳路…), "" for the levels it does not reach."""
    found, first, rest = _read_divisions(text)
    if not found or ("province" not in found and len(_divisions()[1].get(first, ())) > 1):
        return "", "", ""
    if _STREET_AFTER.match(rest):
        # The last place read is the start of a street's name (南京西路, 北京市朝阳门北大街, 天津市河北路):
        # only what comes before it counts.
        consumed = searchable(to_simplified(text or ""))[: -len(rest)]
        name = list(found.values())[-1].name
        written = next((form for form in (name, name[:-1], name[:-2], name[:-3])
                        if len(form) >= 2 and consumed.endswith(form)), "")
        if not written:
            return "", "", ""
        return address_divisions(consumed[: -len(written)])
    parsed = parse_address(text)
    municipality = parsed.code[:2] in _MUNICIPALITIES
    return parsed.province, parsed.city or (parsed.province if municipality else ""), parsed.district


def region_names(text: str) -> tuple[str, ...]:
    """Places named in a piece of text such as a bracket: （北京） → ('北京市',)."""
    parsed = parse_address(text)
    if parsed.rest:
        return ()
    return tuple(p for p in (parsed.province, parsed.city, parsed.district) if p)


# ---------------------------------------------------------------------------------------------
# Company names in parts
# ---------------------------------------------------------------------------------------------

_BRACKETED = re.compile(r"[(\[{<（【〔《「『]([^()\[\]{}<>（）【】〔〕《》「」『』]*)[)\]}>）】〕》」』]")
_BRANCH_WORDS = "分公司|分厂|分店|办事处|营业部|分部|分行|支行"
# Greedy head, so 华为技术有限公司北京分公司 splits after the last legal form.
_BRANCH = re.compile(rf"^(?P<head>.+(?:公司|集团|银行|厂))(?P<place>[^公司]{{1,20}}?)(?:{_BRANCH_WORDS})$")
_BRANCH_BARE = re.compile(rf"^(?P<head>.+?)(?:{_BRANCH_WORDS})$")


@dataclass(frozen=True)
class CompanyName:
    """A company name taken apart for matching.

    华為技術（北京）有限公司 → core 华为技术, regions (北京市,), legal form 有限公司, branch "".
    """

    core: str  # brand and business words: no region, no legal form, no brackets, simplified
    regions: tuple[str, ...]  # official names of the places named in the name
    legal_form: str
    branch: str  # the place (or name) of a branch office, "" for the company itself
    full: str  # the whole name, canonical (simplified, half-width, lower case, no spaces or brackets)


@lru_cache(maxsize=200_000)
def parse_company_name(name: str) -> CompanyName:
    text = to_simplified(to_halfwidth(name or "")).lower()
    text = _SPACES.sub("", text)
    regions: list[str] = []

    def bracket(match: re.Match) -> str:
        inner = match.group(1)
        places = region_names(inner)
        if places:
            regions.extend(places)
            return ""
        return inner

    text = _BRACKETED.sub(bracket, text)
    text = _BRACKETS.sub("", text)
    full = text
    branch = ""
    if match := _BRANCH.match(text):
        branch = match.group("place")
        text = match.group("head")
        # A branch is located where the branch is, not where its head office's name says.
        regions = list(region_names(branch))
    elif match := _BRANCH_BARE.match(text):
        # 华为上海分公司: the branch is the place name at the end of what precedes the branch word.
        head = match.group("head")
        for size in range(min(_MAX_DIVISION_NAME, len(head) - 2), 1, -1):
            places = region_names(head[-size:])
            if places:
                branch, text = head[-size:], head[:-size]
                regions = list(places)
                break
    legal_forms: list[str] = []
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_FORM_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                legal_forms.insert(0, suffix)
                stripped = True
                break
    # Leading places: 北京华为技术 / 广东省深圳市华为 → core 华为技术 / 华为, keeping at least two characters.
    parsed = parse_address(text, in_name=True)
    if parsed.code and len(parsed.rest) >= 2:
        if not branch:
            regions.extend(p for p in (parsed.province, parsed.city, parsed.district) if p)
        text = parsed.rest
    return CompanyName(
        core=text,
        regions=tuple(dict.fromkeys(regions)),
        legal_form="".join(legal_forms),
        branch=branch,
        full=full,
    )


# ---------------------------------------------------------------------------------------------
# Unified social credit codes (GB 32100-2015) and resident ID numbers (GB 11643-1999)
# ---------------------------------------------------------------------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE = re.compile(rf"^[{_CREDIT_CHARS}]{{18}}$")


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """An 18-character unified social credit code, upper case, with a correct check character."""
    code = _SPACES.sub("", to_halfwidth(value)).upper()
    if not _CREDIT_CODE.match(code) or credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("Enter a valid unified social credit code: 18 characters with a correct check character."),
            code="invalid_credit_code",
        )
    return code


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    """An 18-character resident ID number with a real birth date and a correct check character.

    A 15-digit first-generation number is widened to 18 (century 19, check character added).
    """
    number = _SPACES.sub("", to_halfwidth(value)).upper()
    if re.fullmatch(r"\d{15}", number):
        number = number[:6] + "19" + number[6:]
        number += id_number_check_char(number)
    invalid = ValidationError(
        _("Enter a valid ID number: 18 characters with a real birth date and a correct check character."),
        code="invalid_id_number",
    )
    if not re.fullmatch(r"\d{17}[\dX]", number) or id_number_check_char(number[:17]) != number[17]:
        raise invalid
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise invalid from None
    return number


# ---------------------------------------------------------------------------------------------
# Lenient keys for matching (never raise: imported lists are messy)
# ---------------------------------------------------------------------------------------------


def phone_key(value: str | None) -> str:
    """Canonical number for matching; digits when the number is not valid; extension dropped."""
    if not value:
        return ""
    try:
        return normalize_phone(value).split("-")[0]
    except ValidationError:
        digits = phone_digits(re.split(r"转|分机|ext|#", to_halfwidth(value), maxsplit=1, flags=re.IGNORECASE)[0])
        return _strip_country_code(digits) if len(digits) > 11 else digits


def email_key(value: str | None) -> str:
    if not value:
        return ""
    return _SPACES.sub("", to_halfwidth(value)).lower().strip(" .;,")
