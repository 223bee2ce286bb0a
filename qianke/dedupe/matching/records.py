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

    def __reduce__(self):
        return _rebuild, flat(self)


_FIELDS = tuple(Prepared.__dataclass_fields__)
assert _FIELDS[2:17] == ("cores", "core_pinyin", "branches", "localities", "provinces", "districts", "address_rest",
                         "contacts", "credit_codes", "phones", "mobiles", "landlines", "emails", "domains",
                         "postcodes")
_SET_POSITIONS = tuple(i for i, name in enumerate(_FIELDS) if name in _SET_FIELDS)


def flat(p: Prepared) -> tuple:
    """The fields as plain tuples and strings: what pickles fastest (see _rebuild)."""
    return (p.id, p.kind, tuple(p.cores), tuple(p.core_pinyin), tuple(p.branches), tuple(p.localities),
            tuple(p.provinces), tuple(p.districts), tuple(p.address_rest), tuple(p.contacts),
            tuple(p.credit_codes), tuple(p.phones), tuple(p.mobiles), tuple(p.landlines), tuple(p.emails),
            tuple(p.domains), tuple(p.postcodes), p.full_name, p.given, p.family, p.birth, p.id_number, p.street,
            p.locality, p.region)


# Sets that many records share (places, postcodes, mail domains, branches) are kept once, not once
# per record: a one-element frozenset costs 216 bytes, times a million records.
_SHARED_SET_FIELDS = ("branches", "localities", "provinces", "districts", "domains", "postcodes")
_SHARED_SETS: dict[frozenset[str] | tuple[str, ...], frozenset[str]] = {}


def _shared(values: set[str] | tuple[str, ...]) -> frozenset[str]:
    if not values:
        return _EMPTY
    key = values if type(values) is tuple else frozenset(values)
    hit = _SHARED_SETS.get(key)
    if hit is None:
        if len(_SHARED_SETS) >= 500_000:
            _SHARED_SETS.clear()
        hit = _SHARED_SETS[key] = key if type(key) is frozenset else frozenset(key)
    return hit


_SHARED_POSITIONS = tuple(i for i, name in enumerate(_FIELDS) if name in _SHARED_SET_FIELDS)
_OWN_POSITIONS = tuple(i for i in _SET_POSITIONS if i not in _SHARED_POSITIONS)


def _rebuild(id, kind, cores, core_pinyin, branches, localities, provinces, districts, address_rest,  # noqa: A002
             contacts, credit_codes, phones, mobiles, landlines, emails, domains, postcodes, *rest) -> Prepared:
    # Spelled out field by field, not looped over positions: a scan rebuilds a million of these in one
    # process while the workers prepare.
    e = _EMPTY
    return Prepared(
        id, kind, frozenset(cores) if cores else e, frozenset(core_pinyin) if core_pinyin else e,
        _shared(branches) if branches else e, _shared(localities) if localities else e,
        _shared(provinces) if provinces else e, _shared(districts) if districts else e, address_rest,
        frozenset(contacts) if contacts else e, frozenset(credit_codes) if credit_codes else e,
        frozenset(phones) if phones else e, frozenset(mobiles) if mobiles else e,
        frozenset(landlines) if landlines else e, frozenset(emails) if emails else e,
        _shared(domains) if domains else e, _shared(postcodes) if postcodes else e, *rest,
    )


def _values(record: Record, role: str) -> list[str]:
    values = record.values.get(role)
    if not values:
        return []
    return [v for v in values if v and (v.strip() if isinstance(v, str) else str(v).strip())]


def _text(value: str) -> str:
    return normalize.canonical_text(value)


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_NOT_DIGIT = re.compile(r"\D")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")


# canonical_text per character
# ---------------------------------------------------------------------------------------------
#
# For the characters lists are written in (ASCII, CJK ideographs and punctuation, full-width forms)
# normalize.canonical_text maps one character at a time, so a str.translate table filled on first sight
# of each character from canonical_text itself gives the same text; any other character takes
# canonical_text. Tests hold the two equal (qianke/dedupe/tests/test_matching_fast.py).

_UNSAFE = "\x00"  # never produced by a mapping below: marks text that must take normalize's path


def _per_character(ranges: tuple[tuple[int, int], ...]):
    def safe(code: int) -> bool:
        return any(low <= code <= high for low, high in ranges)

    return safe


# Characters whose NFKC form, simplification and lower case do not depend on their neighbours.
_SAFE = _per_character((
    (0x01, 0x7F), (0xB7, 0xB7), (0x2010, 0x2027), (0x3000, 0x3029), (0x3030, 0x303F), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF01, 0xFF5E),
))


class _Table(dict):
    """A str.translate table filled on first sight of each character from a reference function."""

    def __init__(self, reference) -> None:
        super().__init__()
        self.reference = reference

    def __missing__(self, code: int) -> str:
        value = self.reference(chr(code)) if _SAFE(code) else _UNSAFE
        self[code] = value
        return value


_WORD_TEXT = _Table(lambda c: _NOT_WORD.sub("", normalize.canonical_text(c)))


def _compact(value: str) -> str:
    """_NOT_WORD.sub("", canonical_text(value)): letters, digits and CJK only, canonical."""
    if not isinstance(value, str):
        value = str(value)
    text = value.translate(_WORD_TEXT)
    return text if _UNSAFE not in text else _NOT_WORD.sub("", _text(value))


class _PinyinTable(dict):
    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = lazy_pinyin(char)[0] if "\u3400" <= char <= "\u9fff" else char
        self[code] = value
        return value


_PINYIN_TABLE = _PinyinTable()


def pinyin_of(text: str) -> str:
    """Toneless pinyin, one reading per character (cached): homophones and variants spell alike.

    Reading each character alone, without the phrase context pypinyin would use, keeps it fast on
    big lists and makes a character always spell the same, which is what matching needs.
    """
    return text.translate(_PINYIN_TABLE)


# The canonical forms come from core.normalize, the one normalisation module; the engine only remembers
# them, because a list repeats its numbers, addresses and names (the caches are bounded).
_CACHE_LIMIT = 200_000
_PHONES: dict[str, str] = {}
_ADDRESSES: dict[str, tuple[str, str, str, str, str, str]] = {}
_COMPANIES: dict[str, tuple[str, tuple[str, ...], str]] = {}


def _remember(cache: dict, key, value):
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def phone_key(value: str) -> str:
    hit = _PHONES.get(value)
    return hit if hit is not None else _remember(_PHONES, value, normalize.phone_key(value))


def email_key(value: str) -> str:
    return normalize.email_key(value)


def parse_address(text: str) -> tuple[str, str, str, str, str, str]:
    """normalize.parse_address(text) as (province, city, district, rest, code, locality)."""
    hit = _ADDRESSES.get(text)
    if hit is None:
        parsed = normalize.parse_address(text)
        hit = _remember(_ADDRESSES, text, (parsed.province, parsed.city, parsed.district, parsed.rest, parsed.code,
                                           parsed.locality))
    return hit


def parse_company_name(name: str) -> tuple[str, tuple[str, ...], str]:
    """(core, regions, branch) of normalize.parse_company_name(name)."""
    hit = _COMPANIES.get(name)
    if hit is None:
        parsed = normalize.parse_company_name(name)
        hit = _remember(_COMPANIES, name, (parsed.core, parsed.regions, parsed.branch))
    return hit


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
    province, _city, district, rest, _code, locality = parse_address(text)
    if locality:
        prepared.localities.add(locality)
    if province:
        prepared.provinces.add(province)
    if district:
        prepared.districts.add(district)
    if rest:
        prepared.address_rest.append(rest)


def _freeze(values: set[str]) -> frozenset[str]:
    return frozenset(values) if values else _EMPTY


def prepare(record: Record) -> Prepared:
    if record.kind != INDIVIDUAL:
        return _prepare_organization(record)
    p = Prepared(id=record.id, kind=record.kind)
    _channels(record, p.phones, p.mobiles, p.landlines, p.emails, p.domains, p.postcodes)
    _prepare_individual(record, p)
    for name in _SET_FIELDS:
        value = getattr(p, name)
        setattr(p, name, frozenset(value) if value else _EMPTY)
    p.address_rest = tuple(p.address_rest)
    return p


def _channels(record: Record, phones: set[str], mobiles: set[str], landlines: set[str], emails: set[str],
              domains: set[str], postcodes: set[str]) -> None:
    for role in ("mobile", "phone"):
        for value in _values(record, role):
            key = phone_key(value) if isinstance(value, str) else normalize.phone_key(value)
            if len(key) >= 7:
                phones.add(key)
                (mobiles if _MOBILE.match(key) else landlines).add(key)
    for value in _values(record, "email"):
        key = email_key(value) if isinstance(value, str) else normalize.email_key(value)
        if "@" in key:
            emails.add(key)
            domain = key.rsplit("@", 1)[1]
            if domain not in FREE_MAIL_DOMAINS:
                domains.add(domain)
    for value in _values(record, "postcode"):
        if type(value) is str and value.isascii():
            code = value if value.isdigit() else _NOT_DIGIT.sub("", value)  # NFKC leaves ASCII as it is
        else:
            code = _NOT_DIGIT.sub("", normalize.to_halfwidth(str(value)))
        if code:
            postcodes.add(code)


_REGIONS: dict[tuple[str, ...], tuple[str, str]] = {}


def _regions_place(regions: tuple[str, ...]) -> tuple[str, str]:
    """Locality and province of the places named in a company name (few distinct: cached)."""
    hit = _REGIONS.get(regions)
    if hit is None:
        province, _city, _district, _rest, _code, locality = parse_address("".join(regions))
        hit = _REGIONS[regions] = (locality, province)
    return hit


def _prepare_organization(record: Record) -> Prepared:
    phones: set[str] = set()
    mobiles: set[str] = set()
    landlines: set[str] = set()
    emails: set[str] = set()
    domains: set[str] = set()
    postcodes: set[str] = set()
    _channels(record, phones, mobiles, landlines, emails, domains, postcodes)
    cores: set[str] = set()
    core_pinyin: set[str] = set()
    branches: set[str] = set()
    localities: set[str] = set()
    provinces: set[str] = set()
    districts: set[str] = set()
    address_rest: list[str] = []
    contacts: set[str] = set()
    credit_codes: set[str] = set()
    for value in _values(record, "name") + _values(record, "short_name"):
        core, regions, branch = parse_company_name(str(value))
        if not core:
            continue
        cores.add(core)
        core_pinyin.add(pinyin_of(core))
        if branch:
            branches.add(branch)
        if regions:
            locality, province = _regions_place(regions)
            if locality:
                localities.add(locality)
            if province:
                provinces.add(province)
    for value in _values(record, "address"):
        province, _city, district, rest, _code, locality = parse_address(str(value))
        if locality:
            localities.add(locality)
        if province:
            provinces.add(province)
        if district:
            districts.add(district)
        if rest:
            address_rest.append(rest)
    for value in _values(record, "contact"):
        name = _compact(str(value))
        if name:
            contacts.add(name)
    for value in _values(record, "credit_code"):
        code = re.sub(r"\s+", "", normalize.to_halfwidth(str(value))).upper()
        if code:
            credit_codes.add(code)
    return Prepared(
        record.id, record.kind, _freeze(cores), _freeze(core_pinyin), _shared(branches), _shared(localities),
        _shared(provinces), _shared(districts), tuple(address_rest), _freeze(contacts), _freeze(credit_codes),
        _freeze(phones), _freeze(mobiles), _freeze(landlines), _freeze(emails), _shared(domains),
        _shared(postcodes),
    )


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
