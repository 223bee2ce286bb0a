"""What the engine compares: records with raw values by role, and their prepared (canonical) forms.

Preparing is done once per record, so comparing a pair only looks values up; that is what keeps a
million-record scan within its time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin

from qianke.core import normalize

ORGANIZATION = "organization"
INDIVIDUAL = "individual"

ORGANIZATION_ROLES = ("name", "short_name", "contact", "mobile", "phone", "email", "address", "postcode",
                      "credit_code")
INDIVIDUAL_ROLES = ("name", "given_name", "family_name", "birth_date", "id_number", "street", "locality",
                    "region", "postcode", "mobile", "phone", "email", "address")
ROLES = tuple(dict.fromkeys(ORGANIZATION_ROLES + INDIVIDUAL_ROLES))

# Shared mailbox providers: the same domain says nothing about being the same company.
FREE_MAIL_DOMAINS = frozenset({
    "qq.com", "163.com", "126.com", "sina.com", "sina.cn", "sohu.com", "yeah.net", "139.com", "189.cn",
    "aliyun.com", "foxmail.com", "gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "live.com",
    "icloud.com", "msn.com", "263.net", "tom.com", "21cn.com",
})


@dataclass(frozen=True)
class Record:
    """One row to match: raw values by role (a role may have several values, e.g. two phone columns)."""

    id: str
    kind: str  # "organization" | "individual"
    values: dict[str, tuple[str, ...]]


_SET_FIELDS = ("cores", "core_pinyin", "branches", "localities", "provinces", "districts", "contacts", "credit_codes",
               "phones", "mobiles", "landlines", "emails", "domains", "postcodes")
_EMPTY: frozenset[str] = frozenset()


@dataclass(slots=True)
class Prepared:
    """Canonical forms of one record's values, computed once.

    Sets are frozen once prepared, and empty ones share one object: a million prepared records
    must fit in memory.
    """

    id: str
    kind: str
    # organisations
    cores: set[str] = field(default_factory=set)
    core_pinyin: set[str] = field(default_factory=set)
    branches: set[str] = field(default_factory=set)
    localities: set[str] = field(default_factory=set)  # city level (province for 北京 …)
    provinces: set[str] = field(default_factory=set)
    districts: set[str] = field(default_factory=set)
    address_rest: tuple[str, ...] | list[str] = field(default_factory=list)
    contacts: set[str] = field(default_factory=set)
    credit_codes: set[str] = field(default_factory=set)
    # both kinds
    phones: set[str] = field(default_factory=set)
    mobiles: set[str] = field(default_factory=set)
    landlines: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    postcodes: set[str] = field(default_factory=set)
    # individuals
    full_name: str = ""
    given: str = ""
    family: str = ""
    birth: str = ""  # YYYYMMDD as far as known
    id_number: str = ""
    street: tuple[str, ...] = ()
    locality: str = ""
    region: str = ""


def _values(record: Record, role: str) -> list[str]:
    values = record.values.get(role)
    if not values:
        return []
    return [v for v in values if v and (v.strip() if isinstance(v, str) else str(v).strip())]


def _text(value: str) -> str:
    return normalize.canonical_text(value)


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")


def _compact(value: str) -> str:
    return _NOT_WORD.sub("", _text(value))


_CHAR_PINYIN: dict[str, str] = {}


def pinyin_of(text: str) -> str:
    """Toneless pinyin, one reading per character (cached): homophones and variants spell alike.

    Reading each character alone, without the phrase context pypinyin would use, keeps it fast on
    big lists and makes a character always spell the same, which is what matching needs.
    """
    out = []
    for char in text:
        spelled = _CHAR_PINYIN.get(char)
        if spelled is None:
            spelled = lazy_pinyin(char)[0] if "\u3400" <= char <= "\u9fff" else char
            _CHAR_PINYIN[char] = spelled
        out.append(spelled)
    return "".join(out)


def _birth(value: str) -> str:
    digits = re.sub(r"\D", "", normalize.to_halfwidth(str(value)))
    if len(digits) == 8:
        return digits
    try:
        return normalize.parse_date(value).strftime("%Y%m%d")
    except (ValueError, TypeError):
        return digits


def _id_number(value: str) -> str:
    text = re.sub(r"\s+", "", normalize.to_halfwidth(str(value))).upper()
    try:
        return normalize.normalize_id_number(text)
    except Exception:  # noqa: BLE001 - an invalid number still matches on its characters
        return text


def _add_address(prepared: Prepared, text: str) -> None:
    parsed = normalize.parse_address(text)
    if parsed.locality:
        prepared.localities.add(parsed.locality)
    if parsed.province:
        prepared.provinces.add(parsed.province)
    if parsed.district:
        prepared.districts.add(parsed.district)
    if parsed.rest:
        prepared.address_rest.append(parsed.rest)


def prepare(record: Record) -> Prepared:
    p = Prepared(id=record.id, kind=record.kind)
    for role in ("mobile", "phone"):
        for value in _values(record, role):
            key = normalize.phone_key(value)
            if len(key) >= 7:
                p.phones.add(key)
                (p.mobiles if _MOBILE.match(key) else p.landlines).add(key)
    for value in _values(record, "email"):
        key = normalize.email_key(value)
        if "@" in key:
            p.emails.add(key)
            domain = key.rsplit("@", 1)[1]
            if domain not in FREE_MAIL_DOMAINS:
                p.domains.add(domain)
    for value in _values(record, "postcode"):
        code = re.sub(r"\D", "", normalize.to_halfwidth(str(value)))
        if code:
            p.postcodes.add(code)
    if record.kind == INDIVIDUAL:
        _prepare_individual(record, p)
    else:
        _prepare_organization(record, p)
    for name in _SET_FIELDS:
        value = getattr(p, name)
        setattr(p, name, frozenset(value) if value else _EMPTY)
    p.address_rest = tuple(p.address_rest)
    return p


def _prepare_organization(record: Record, p: Prepared) -> None:
    for value in _values(record, "name") + _values(record, "short_name"):
        name = normalize.parse_company_name(str(value))
        if not name.core:
            continue
        p.cores.add(name.core)
        p.core_pinyin.add(pinyin_of(name.core))
        if name.branch:
            p.branches.add(name.branch)
        if name.regions:
            parsed = normalize.parse_address("".join(name.regions))
            if parsed.locality:
                p.localities.add(parsed.locality)
            if parsed.province:
                p.provinces.add(parsed.province)
    for value in _values(record, "address"):
        _add_address(p, str(value))
    for value in _values(record, "contact"):
        name = _compact(value)
        if name:
            p.contacts.add(name)
    for value in _values(record, "credit_code"):
        code = re.sub(r"\s+", "", normalize.to_halfwidth(str(value))).upper()
        if code:
            p.credit_codes.add(code)


def _prepare_individual(record: Record, p: Prepared) -> None:
    given = " ".join(_compact(v) for v in _values(record, "given_name"))
    family = " ".join(_compact(v) for v in _values(record, "family_name"))
    p.given, p.family = given.strip(), family.strip()
    names = _values(record, "name")
    if names:
        p.full_name = _compact(names[0])
    elif p.given or p.family:
        p.full_name = p.family + p.given
    births = _values(record, "birth_date")
    if births:
        p.birth = _birth(births[0])
    ids = _values(record, "id_number")
    if ids:
        p.id_number = _id_number(ids[0])
    # Keep positions: the columns of the street role line up between records of one file.
    p.street = tuple(_text(v) for v in record.values.get("street", ()) if v is not None)
    p.locality = " ".join(_compact(v) for v in _values(record, "locality"))
    p.region = " ".join(_compact(v) for v in _values(record, "region"))
    for value in _values(record, "address"):
        _add_address(p, str(value))
