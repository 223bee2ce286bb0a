"""Scored comparison of two prepared records, Fellegi–Sunter style, with evidence.

Each role adds log2(m/u): m is how often true duplicates agree at that level (fixed priors that hold
for typed-in and imported lists), u how often two unrelated records do. u for an exact agreement is
taken from the value's frequency in the data being matched (a shared family name 王 or brand core
华为 says less than a rare one), so no labelled pairs are needed. The summed weight becomes a
probability with a fixed prior; THRESHOLD_SAME and REVIEW_BAND cut it into decisions.

Evidence notes are English msgids marked with gettext_noop: the engine stays plain strings (it runs
in worker processes and is pickled), and pages show them through gettext(note).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from qianke.core import normalize

from .records import INDIVIDUAL, Prepared


def gettext_noop(message: str) -> str:
    """Marks a msgid for makemessages (which looks for this name) without touching Django settings."""
    return message


# Probability at or above which two records are the same customer, and the band that asks a person.
THRESHOLD_SAME = 0.9
REVIEW_BAND = (0.4, 0.9)
# Two organisations whose names differ plainly (not a variant, homophone or containment) are at most
# "please review" whatever their phones, contacts and postcodes say (a shared switchboard, a contact
# who changed jobs): the score is capped here, inside the review band. The same credit code lifts the cap.
DIFFERENT_NAMES_CAP = 0.85
# log2 prior odds of a candidate pair being a duplicate: the weight at which the score is 0.5.
PRIOR_WEIGHT = 12.0
# A conflict that rules a pair out (different credit codes): the weight it contributes.
HARD_NEGATIVE = -60.0
# Evidence at or below this weight is a conflict (other city, other branch, other ID): clustering
# never joins two groups across a pair with a conflict that is not outweighed.
CONFLICT = -10.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """How one role compared: the two values, their similarity (0–1) and the weight it added."""

    role: str
    left: str
    right: str
    similarity: float
    weight: float
    note: str

    def __reduce__(self):
        # Rebuilt through the constructor: workers hand back hundreds of thousands of these.
        return Evidence, (self.role, self.left, self.right, self.similarity, self.weight, self.note)


@dataclass(frozen=True, slots=True)
class Match:
    left: str
    right: str
    score: float  # probability of being the same customer, 0–1
    decision: str  # "same" | "review" | "different"
    evidence: tuple[Evidence, ...]

    def __reduce__(self):
        return Match, (self.left, self.right, self.score, self.decision, self.evidence)


class Frequencies:
    """Value frequencies of the records being matched, for frequency-based u-probabilities."""

    def __init__(self, prepared: list[Prepared] | None = None) -> None:
        self.total = 0
        self.counts: dict[str, Counter] = {}
        self._weights: dict[tuple[str, float, float], dict[str, float]] = {}
        if prepared:
            self.count(prepared)

    def count(self, prepared: list[Prepared]) -> None:
        """Counts of many records at once, role by role (Counter.update runs in C); as add() one by one."""
        self.total += len(prepared)
        chain = itertools.chain.from_iterable
        organizations = [p for p in prepared if p.kind != INDIVIDUAL]
        people = [p for p in prepared if p.kind == INDIVIDUAL] if len(organizations) < len(prepared) else []
        for role, attribute in (("core", "cores"), ("phone", "phones"), ("contact", "contacts"), ("domain", "domains")):
            if organizations:
                self._counter(role).update(chain(getattr(p, attribute) for p in organizations))
        for role, attribute in (("given", "given"), ("family", "family"), ("full_name", "full_name"),
                                ("birth", "birth"), ("region", "region")):
            if people:
                self._counter(role).update(getattr(p, attribute) for p in people if getattr(p, attribute))
        if people:
            self._counter("street").update(chain((s for s in p.street if s) for p in people))
        self._counter("postcode").update(chain(p.postcodes for p in prepared))
        self._counter("locality").update(chain(p.localities for p in organizations))
        self._counter("locality").update(p.locality for p in people if p.locality)
        self._counter("email").update(chain(p.emails for p in prepared))

    def _counter(self, role: str) -> Counter:
        counter = self.counts.get(role)
        if counter is None:
            counter = self.counts[role] = Counter()
        return counter

    def add(self, p: Prepared) -> None:
        self.total += 1
        self._weights.clear()
        for role, values in _frequency_values(p):
            counter = self.counts.setdefault(role, Counter())
            for value in values:
                counter[value] += 1

    def u(self, role: str, value: str, default: float) -> float:
        """Chance that a random record has this value (never below a floor, never above 1)."""
        counter = self.counts.get(role)
        if not counter or self.total < 50:
            return default
        count = counter.get(value, 0)
        return min(1.0, max(count, 1) / self.total) if count > 1 else min(default, 1.0 / self.total)

    def weight(self, role: str, value: str, default_u: float, m: float) -> float:
        """_exact's weight for agreeing on this value, remembered (a scan asks for the same values often)."""
        cache = self._weights.get((role, default_u, m))
        if cache is None:
            cache = self._weights[(role, default_u, m)] = {}
        weight = cache.get(value)
        if weight is None:
            weight = cache[value] = _w(m, self.u(role, value, default_u))
        return weight


def _frequency_values(p: Prepared):
    if p.kind == INDIVIDUAL:
        yield "given", [p.given] if p.given else []
        yield "family", [p.family] if p.family else []
        yield "full_name", [p.full_name] if p.full_name else []
        yield "birth", [p.birth] if p.birth else []
        yield "postcode", p.postcodes
        yield "locality", [p.locality] if p.locality else []
        yield "region", [p.region] if p.region else []
        yield "street", [s for s in p.street if s]
    else:
        yield "core", p.cores
        yield "phone", p.phones
        yield "postcode", p.postcodes
        yield "locality", p.localities
        yield "contact", p.contacts
        yield "domain", p.domains
    yield "email", p.emails


NO_FREQUENCIES = Frequencies()


def _w(m: float, u: float) -> float:
    return math.log2(max(m, 1e-9) / max(u, 1e-12))


def _exact(role: str, value: str, freq: Frequencies, default_u: float, m: float = 0.95) -> float:
    return freq.weight(role, value, default_u, m)


class _Builder:
    __slots__ = ("items", "total", "hard", "cap")

    def __init__(self) -> None:
        # Plain tuples while scoring; Evidence objects only for pairs worth reporting (see _finish).
        self.items: list[tuple[str, str, str, float, float, str]] = []
        self.total = 0.0
        self.hard = False
        self.cap = False  # the names differ plainly: the score is at most _cap()

    def add(self, role: str, left: str, right: str, similarity: float, weight: float, note: str) -> None:
        self.items.append((role, left, right, similarity, weight, note))
        self.total += weight


def _cap() -> float:
    """DIFFERENT_NAMES_CAP, below THRESHOLD_SAME also where a caller has lowered the threshold."""
    return min(DIFFERENT_NAMES_CAP, THRESHOLD_SAME - 1e-4)


def _decide(score: float) -> str:
    if score >= THRESHOLD_SAME:
        return "same"
    if score >= REVIEW_BAND[0]:
        return "review"
    return "different"


def _finish(a: Prepared, b: Prepared, built: _Builder, full: bool) -> Match:
    weight = built.total - PRIOR_WEIGHT
    score = 0.0 if built.hard else 1.0 / (1.0 + 2.0 ** (-max(min(weight, 60.0), -60.0)))
    if built.cap:
        score = min(score, _cap())
    decision = _decide(score)
    if full or decision != "different":
        evidence = tuple(
            Evidence(role, left, right, round(sim, 3), round(w, 2), note)
            for role, left, right, sim, w, note in sorted(built.items, key=lambda item: -abs(item[4]))
        )
    else:
        evidence = ()
    return Match(a.id, b.id, round(score, 4), decision, evidence)


def score_pair(a: Prepared, b: Prepared, freq: Frequencies = NO_FREQUENCIES, *, full: bool = True,
               evidence: bool = True) -> Match:
    """Score one pair. With full False, a pair decided "different" comes without evidence (bulk scans);
    with evidence False, no pair does (clustering reads only scores and decisions).

    A bulk scan asks this only of the pairs that plainly_different and the column filter leave, most of
    which are reported: weighing them first without evidence (organization_score) would weigh them twice.
    """
    built = _Builder() if evidence else _Total()
    if a.kind == INDIVIDUAL and b.kind == INDIVIDUAL:
        _individuals(a, b, freq, built)
    elif a.kind != INDIVIDUAL and b.kind != INDIVIDUAL:
        _organizations(a, b, freq, built)
    else:
        built.add("kind", a.kind, b.kind, 0.0, HARD_NEGATIVE, gettext_noop("a person and an organisation"))
        built.hard = True
    _contact_channels(a, b, freq, built)
    return _finish(a, b, built, full)


# ---------------------------------------------------------------------------------------------
# Shared: phones, e-mails, postcodes
# ---------------------------------------------------------------------------------------------


def _contact_channels(a: Prepared, b: Prepared, freq: Frequencies, built: _Builder) -> None:
    if a.phones and b.phones:
        common = a.phones & b.phones
        if common:
            value = min(common)
            built.add("phone", value, value, 1.0, _exact("phone", value, freq, 1e-6, m=0.7), gettext_noop("same number"))
        elif a.landlines and b.landlines:
            built.add("phone", min(a.landlines), min(b.landlines), 0.0, -2.0, gettext_noop("different numbers"))
        elif a.mobiles and b.mobiles:
            built.add("mobile", min(a.mobiles), min(b.mobiles), 0.0, -2.0, gettext_noop("different numbers"))
    if a.emails and b.emails:
        common = a.emails & b.emails
        if common:
            value = min(common)
            built.add("email", value, value, 1.0, _exact("email", value, freq, 1e-7, m=0.7), gettext_noop("same address"))
        elif a.domains & b.domains:
            domain = min(a.domains & b.domains)
            built.add("email", min(a.emails), min(b.emails), 0.5,
                      _exact("domain", domain, freq, 1e-4, m=0.3), gettext_noop("same company domain"))
        else:
            built.add("email", min(a.emails), min(b.emails), 0.0, -1.5, gettext_noop("different addresses"))
    if a.postcodes and b.postcodes:
        left, right = min(a.postcodes), min(b.postcodes)
        if a.postcodes & b.postcodes:
            value = min(a.postcodes & b.postcodes)
            built.add("postcode", value, value, 1.0, _exact("postcode", value, freq, 1e-3, m=0.9), gettext_noop("same"))
        else:
            sim = Levenshtein.normalized_similarity(left, right)
            if sim >= 0.8:
                built.add("postcode", left, right, sim, 1.0, gettext_noop("one digit apart"))
            else:
                built.add("postcode", left, right, sim, -3.0, gettext_noop("different"))


# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------


def _best(pairs):
    best = (0.0, "", "")
    for left, right in pairs:
        sim = Levenshtein.normalized_similarity(left, right)
        if sim > best[0] or not best[1]:
            best = (sim, left, right)
    return best


def _organizations(a: Prepared, b: Prepared, freq: Frequencies, built: _Builder) -> None:
    same_code = False
    if a.credit_codes and b.credit_codes:
        if a.credit_codes & b.credit_codes:
            value = min(a.credit_codes & b.credit_codes)
            built.add("credit_code", value, value, 1.0, 30.0, gettext_noop("same credit code"))
            same_code = True
        else:
            built.add("credit_code", min(a.credit_codes), min(b.credit_codes), 0.0, HARD_NEGATIVE,
                      gettext_noop("different credit codes: different legal entities"))
            built.hard = True
    _company_names(a, b, freq, built)
    if same_code:
        built.cap = False  # one legal entity, whatever its names say (renamed, or a brand name)
    _places(a, b, freq, built)
    if a.contacts and b.contacts:
        common = a.contacts & b.contacts
        if common:
            value = min(common)
            built.add("contact", value, value, 1.0, _exact("contact", value, freq, 1e-4, m=0.5), gettext_noop("same contact"))


def _company_names(a: Prepared, b: Prepared, freq: Frequencies, built: _Builder) -> None:
    if not (a.cores and b.cores):
        return
    common = a.cores & b.cores
    if common:
        value = max(common, key=len)
        built.add("name", value, value, 1.0, _exact("core", value, freq, 1e-5, m=0.85), gettext_noop("same name core"))
    else:
        pinyin_common = a.core_pinyin & b.core_pinyin
        sim, left, right = _best((x, y) for x in a.cores for y in b.cores)
        if pinyin_common:
            built.add("name", left, right, max(sim, 0.9), 8.0, gettext_noop("same pronunciation (homophone or variant)"))
        elif sim >= 0.85:
            built.add("name", left, right, sim, 5.0, gettext_noop("nearly the same name"))
        elif _contains(a.cores, b.cores):
            built.add("name", left, right, sim, 2.0, gettext_noop("one name contains the other"))
        elif sim >= 0.7:
            built.add("name", left, right, sim, -2.0, gettext_noop("similar names"))
        else:
            built.add("name", left, right, sim, -8.0, gettext_noop("different names"))
            built.cap = True
    # A branch office is a different customer from its head office and from other branches.
    if a.branches != b.branches:
        left, right = ",".join(sorted(a.branches)) or "-", ",".join(sorted(b.branches)) or "-"
        built.add("name", left, right, 0.0, -12.0, gettext_noop("different branch offices"))


def plainly_different(a: Prepared, b: Prepared, freq: Frequencies = NO_FREQUENCIES) -> bool:
    """True if two organisations score below the review band whatever their names and streets compare.

    The exact agreements and conflicts are cheap (set lookups); the string similarities are not. Here
    each similarity counts at the most it could add (+5 a name, +6 a street, +1 a postcode), so True
    is certain; False leaves the decision to score_pair.
    """
    total = 0.0
    weight = freq.weight
    if a.credit_codes and b.credit_codes:
        if not (a.credit_codes & b.credit_codes):
            return True
        total += 30.0
    if a.cores and b.cores:
        common = a.cores & b.cores
        if common:
            total += weight("core", max(common, key=len), 1e-5, 0.85)
        elif a.core_pinyin & b.core_pinyin:
            total += 8.0
        else:
            total += 5.0
        if a.branches != b.branches:
            total -= 12.0
    if a.localities and b.localities:
        common = a.localities & b.localities
        total += weight("locality", min(common), 0.01, 0.95) / 3 if common else -14.0
    if a.districts and b.districts and not (a.districts & b.districts):
        total -= 3.0
    if a.address_rest and b.address_rest:
        total += 6.0
    if a.contacts and b.contacts:
        common = a.contacts & b.contacts
        if common:
            total += weight("contact", min(common), 1e-4, 0.5)
    if a.phones and b.phones:
        common = a.phones & b.phones
        if common:
            total += weight("phone", min(common), 1e-6, 0.7)
        elif (a.landlines and b.landlines) or (a.mobiles and b.mobiles):
            total -= 2.0
    if a.emails and b.emails:
        common = a.emails & b.emails
        if common:
            total += weight("email", min(common), 1e-7, 0.7)
        else:
            common = a.domains & b.domains
            total += weight("domain", min(common), 1e-4, 0.3) if common else -1.5
    if a.postcodes and b.postcodes:
        common = a.postcodes & b.postcodes
        total += weight("postcode", min(common), 1e-3, 0.9) if common else 1.0
    # score >= REVIEW_BAND[0]  <=>  total - PRIOR_WEIGHT >= log2(band / (1 - band)); a margin for rounding.
    band = REVIEW_BAND[0]
    return total - PRIOR_WEIGHT < math.log2(band / (1.0 - band)) - 1e-6


class _Total:
    """A builder that only adds the weights up: the score without its evidence."""

    __slots__ = ("total", "hard", "cap")
    items = ()  # what _finish makes evidence of

    def __init__(self) -> None:
        self.total = 0.0
        self.hard = False
        self.cap = False

    def add(self, role: str, left: str, right: str, similarity: float, weight: float, note: str) -> None:
        self.total += weight


def organization_score(a: Prepared, b: Prepared, freq: Frequencies = NO_FREQUENCIES) -> float:
    """The score score_pair gives two organisations, without building its evidence.

    The same weighing (_organizations and _contact_channels) into a builder that only adds, for callers
    that want the score alone; the tests hold it to score_pair on every candidate pair.
    """
    built = _Total()
    _organizations(a, b, freq, built)
    _contact_channels(a, b, freq, built)
    if built.hard:
        return 0.0
    score = 1.0 / (1.0 + 2.0 ** (-max(min(built.total - PRIOR_WEIGHT, 60.0), -60.0)))
    return min(score, _cap()) if built.cap else score


def _contains(left: set[str], right: set[str]) -> bool:
    return any(len(x) >= 2 and len(y) >= 2 and (x in y or y in x) for x in left for y in right)


def _places(a: Prepared, b: Prepared, freq: Frequencies, built: _Builder) -> None:
    if a.localities and b.localities:
        if a.localities & b.localities:
            value = min(a.localities & b.localities)
            built.add("address", value, value, 1.0, _exact("locality", value, freq, 0.01, m=0.95) / 3, gettext_noop("same city"))
        else:
            # 北京华为 and 上海华为: one brand in two cities is two customers.
            built.add("address", min(a.localities), min(b.localities), 0.0, -14.0, gettext_noop("different cities"))
    if a.districts and b.districts and not (a.districts & b.districts):
        built.add("address", min(a.districts), min(b.districts), 0.0, -3.0, gettext_noop("different districts"))
    if a.address_rest and b.address_rest:
        sim, left, right = _best((x, y) for x in a.address_rest for y in b.address_rest)
        if sim >= 0.9:
            built.add("address", left, right, sim, 6.0, gettext_noop("same street address"))
        elif sim >= 0.7:
            built.add("address", left, right, sim, 2.0, gettext_noop("similar street address"))
        else:
            built.add("address", left, right, sim, -2.0, gettext_noop("different street address"))


# ---------------------------------------------------------------------------------------------
# Individuals
# ---------------------------------------------------------------------------------------------


def _string_level(role: str, left: str, right: str, freq: Frequencies, built: _Builder,
                  default_u: float, hi: float = 6.0, lo: float = 2.0, miss: float = -4.0) -> float:
    if not left or not right:
        return 0.0
    if left == right:
        weight = _exact(role, left, freq, default_u)
        built.add(role, left, right, 1.0, weight, gettext_noop("same"))
        return 1.0
    sim = JaroWinkler.similarity(left, right)
    if sim >= 0.92:
        built.add(role, left, right, sim, hi, gettext_noop("typo"))
    elif sim >= 0.85:
        built.add(role, left, right, sim, lo, gettext_noop("similar"))
    else:
        built.add(role, left, right, sim, miss, gettext_noop("different"))
    return sim


def _individuals(a: Prepared, b: Prepared, freq: Frequencies, built: _Builder) -> None:
    if a.given and b.given and a.family and b.family and a.given == b.family and a.family == b.given \
            and a.given != a.family:
        built.add("name", a.family + " " + a.given, b.family + " " + b.given, 0.9, 10.0, gettext_noop("given and family swapped"))
    elif (a.given or a.family) and (b.given or b.family):
        _string_level("given_name", a.given, b.given, freq, built, 0.005)
        _string_level("family_name", a.family, b.family, freq, built, 0.005)
    elif a.full_name and b.full_name:
        _string_level("name", a.full_name, b.full_name, freq, built, 1e-4)
    _dates(a.birth, b.birth, freq, built)
    _id_numbers(a.id_number, b.id_number, built)
    _street(a.street, b.street, freq, built)
    _string_level("locality", a.locality, b.locality, freq, built, 0.002, hi=4.0, lo=1.0, miss=-3.0)
    if a.region and b.region:
        if a.region == b.region:
            built.add("region", a.region, b.region, 1.0, _exact("region", a.region, freq, 0.15, m=0.95) / 2, gettext_noop("same"))
        else:
            built.add("region", a.region, b.region, 0.0, -2.0, gettext_noop("different"))
    if a.localities and b.localities and not (a.localities & b.localities):
        built.add("address", min(a.localities), min(b.localities), 0.0, -6.0, gettext_noop("different cities"))


def _dates(left: str, right: str, freq: Frequencies, built: _Builder) -> None:
    if not left or not right:
        return
    if left == right:
        built.add("birth_date", left, right, 1.0, _exact("birth", left, freq, 1 / 20000), gettext_noop("same"))
        return
    swapped = len(left) == 8 and len(right) == 8 and left[:4] == right[:4] and left[4:6] == right[6:8] \
        and left[6:8] == right[4:6]
    distance = OSA.distance(left, right)
    if swapped:
        built.add("birth_date", left, right, 0.9, 8.0, gettext_noop("day and month swapped"))
    elif distance == 1:
        built.add("birth_date", left, right, 0.875, 7.0, gettext_noop("one digit differs"))
    elif distance == 2:
        built.add("birth_date", left, right, 0.75, 0.0, gettext_noop("two digits differ"))
    else:
        built.add("birth_date", left, right, 0.0, -6.0, gettext_noop("different"))


def _id_numbers(left: str, right: str, built: _Builder) -> None:
    if not left or not right:
        return
    if left == right:
        built.add("id_number", left, right, 1.0, 22.0, gettext_noop("same"))
        return
    distance = OSA.distance(left, right)
    sim = 1.0 - distance / max(len(left), len(right))
    if _checked_id(left) and _checked_id(right):
        # Both pass the GB 11643 check, which a typo almost never keeps: two people (twins differ
        # in two characters only).
        built.add("id_number", left, right, sim, -16.0, gettext_noop("different valid ID numbers"))
    elif distance == 1:
        built.add("id_number", left, right, sim, 9.0, gettext_noop("one character differs"))
    elif distance == 2:
        built.add("id_number", left, right, sim, 2.0, gettext_noop("two characters differ"))
    else:
        built.add("id_number", left, right, sim, -8.0, gettext_noop("different"))


def _checked_id(number: str) -> bool:
    return len(number) == 18 and number[:17].isdigit() and normalize.id_number_check_char(number[:17]) == number[17]


def _street(left: tuple[str, ...], right: tuple[str, ...], freq: Frequencies, built: _Builder) -> None:
    if not any(left) or not any(right):
        return
    if len(left) == len(right):
        right = _align_swapped(left, right)
        for x, y in zip(left, right, strict=True):
            if not x or not y:
                continue
            if x == y:
                weight = _exact("street", x, freq, 2e-3, m=0.9)
                built.add("street", x, y, 1.0, min(weight, 10.0), gettext_noop("same"))
            else:
                sim = JaroWinkler.similarity(x, y)
                if sim >= 0.9:
                    built.add("street", x, y, sim, 4.0, gettext_noop("typo"))
                elif sim >= 0.8:
                    built.add("street", x, y, sim, 1.0, gettext_noop("similar"))
                else:
                    built.add("street", x, y, sim, -3.0, gettext_noop("different"))
        return
    x, y = " ".join(v for v in left if v), " ".join(v for v in right if v)
    sim = Levenshtein.normalized_similarity(x, y)
    built.add("street", x, y, sim, 8.0 if sim >= 0.9 else (2.0 if sim >= 0.75 else -3.0), gettext_noop("address"))


def _align_swapped(left: tuple[str, ...], right: tuple[str, ...]) -> tuple[str, ...]:
    """Two address columns typed in each other's place (street and building swapped) line up again."""
    for i in range(len(left)):
        for j in range(i + 1, len(left)):
            if left[i] and left[j] and left[i] != right[i] and left[j] != right[j] \
                    and JaroWinkler.similarity(left[i], right[j]) >= 0.9 \
                    and JaroWinkler.similarity(left[j], right[i]) >= 0.9:
                swapped = list(right)
                swapped[i], swapped[j] = right[j], right[i]
                return tuple(swapped)
    return right
