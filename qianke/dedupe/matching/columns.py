"""Records' fields as NumPy columns, to rule out candidate pairs in bulk.

Most candidate pairs of a big scan are different customers. Asking that of each pair in Python reads
two records scattered over gigabytes of objects (and, in forked workers, copies every page whose
reference counts it touches); the same sums over integer columns run in C and leave Python only the
pairs that reach the review band.

The sums are score_pair's own, term by term in its order: for two organisations _organisations and
_contact_channels, for two people _individuals and _contact_channels (for people as a customer table
gives them: a full name, a birth date, an address, phones, e-mails, a postcode). Exact agreements and
conflicts come from hashed values; the string similarities score_pair weighs (company names and
streets, people's names and birth dates, postcodes) from rapidfuzz's `cpdist`, the scorers score_pair
calls one pair at a time, run over the pairs at once. They are computed only for the pairs that are not
below the band even with each similarity at the most it could add (scoring.plainly_different's sum for
organisations), which is most pairs. A pair of a person and an organisation is a hard conflict. So a
pair is ruled out exactly where score_pair decides "different", and the matches are the same; records
the columns cannot hold are left to Python (the fallback flag).

Values are kept as their str hashes, computed where the records are prepared (in the forked workers of
a big scan: a hash is the same there as in the parent). Two different values with one hash would look
equal: for the weighed fields that is checked against the value counts (every value whose weight is
read must have its own hash, else no column filter); for the others looking equal only raises the sum,
so nothing that score_pair keeps is ruled out.
"""

from __future__ import annotations

import math
from operator import attrgetter

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from . import scoring
from .records import INDIVIDUAL, Prepared
from .scoring import Frequencies

NONE = -1  # CPython never returns -1 as a hash

# Hash columns of one record: (field, attribute, slots). A multi-valued field (phones: a company's
# landline and its contacts' mobiles; contacts; localities) keeps up to `slots` values, sorted as
# strings so that the first slot of one record that the other record also holds is min(common), the
# value score_pair weighs; a record with more values than slots is left to Python. Name cores are
# sorted longest first instead (score_pair weighs the longest common core), and a record with two
# cores of one length is left to Python (which of them a set yields first is not fixed). The slots fit
# a customer with its contacts (up to three contacts' names, five phone numbers).
FIELDS = (
    ("credit", "credit_codes", 1),
    ("core", "cores", 2),
    ("pinyin", "core_pinyin", 2),
    ("locality", "localities", 2),
    ("district", "districts", 1),
    ("contact", "contacts", 3),
    ("phone", "phones", 5),
    ("email", "emails", 2),
    ("domain", "domains", 2),
    ("postcode", "postcodes", 1),
    # people
    ("name", "full_name", 1),
    ("birth", "birth", 1),
)
_OFFSETS: dict[str, int] = {}
_SLOTS: dict[str, int] = {}
_width = 0
for _name, _attribute, _slots in FIELDS:
    _OFFSETS[_name] = _width
    _SLOTS[_name] = _slots
    _width += _slots
BRANCHES = _width  # the branch set, compared whole
FLAGS = _width + 1  # bits below
WIDTH = _width + 2
FALLBACK, REST, LANDLINE, MOBILE, PERSON = 1, 2, 4, 8, 16

# Weighed fields: Frequencies role, default u, m (as scoring asks freq.weight), divisor.
_WEIGHED = {
    "core": ("core", 1e-5, 0.85, 1.0),
    "locality": ("locality", 0.01, 0.95, 3.0),
    "contact": ("contact", 1e-4, 0.5, 1.0),
    "phone": ("phone", 1e-6, 0.7, 1.0),
    "email": ("email", 1e-7, 0.7, 1.0),
    "domain": ("domain", 1e-4, 0.3, 1.0),
    "postcode": ("postcode", 1e-3, 0.9, 1.0),
    # score_pair weighs an equal full name under the role "name", which Frequencies does not count
    # (it counts "full_name"): every name gets the default u.
    "name": ("name", 1e-4, 0.95, 1.0),
    "birth": ("birth", 1 / 20000, 0.95, 1.0),
}
# Whose values a weight is read for: organisations' (o), people's (p) or both; and whose values the
# role counts (Frequencies.count). A value read but not counted has count 0.
_READ_BY = {"core": "o", "locality": "o", "contact": "o", "phone": "op", "email": "op", "domain": "op",
            "postcode": "op", "name": "p", "birth": "p"}
_COUNTED_FOR_PEOPLE = {"email", "postcode", "birth"}
# Weights come from NumPy's log2, which may differ from math.log2 in the last bit: a pair this close
# to the band is left to Python.
_MARGIN = 1e-7


_LAYOUT = tuple((name, attribute, _OFFSETS[name], slots) for name, attribute, slots in FIELDS[:-2])
_PERSON_LAYOUT = tuple((name, attribute, _OFFSETS[name], slots) for name, attribute, slots in FIELDS[:-2]
                       if name in ("locality", "phone", "email", "domain", "postcode"))


def _by_length(value: str) -> tuple[int, str]:
    return -len(value), value


def _person_fits(p: Prepared) -> bool:
    """A person with only what the columns weigh: a full name, birth date, address places and channels.

    Given and family names, ID numbers, streets, a locality or region field (file imports) take
    score_pair's other branches: such a person is left to Python.
    """
    return not (p.given or p.family or p.id_number or p.locality or p.region or any(p.street))


def record_hashes(prepared: list[Prepared]) -> np.ndarray:
    """One row of WIDTH int64 per record: its values' hashes (NONE where absent), then flags."""
    out: list[int] = []
    blank = [NONE] * WIDTH
    name_offset, birth_offset = _OFFSETS["name"], _OFFSETS["birth"]
    for p in prepared:
        row = blank.copy()
        person = p.kind == INDIVIDUAL
        if person:
            flags = PERSON | (LANDLINE if p.landlines else 0) | (MOBILE if p.mobiles else 0)
            if not _person_fits(p):
                flags |= FALLBACK
            layout = _PERSON_LAYOUT
            if p.full_name:
                row[name_offset] = hash(p.full_name)
            if p.birth:
                row[birth_offset] = hash(p.birth)
        else:
            flags = (
                (REST if p.address_rest else 0) | (LANDLINE if p.landlines else 0) | (MOBILE if p.mobiles else 0)
                | (FALLBACK if len(p.address_rest) > 1 else 0)  # the street similarity reads one street
            )
            layout = _LAYOUT
        if not flags & FALLBACK:
            for name, attribute, offset, slots in layout:
                values = getattr(p, attribute)
                if not values:
                    continue
                if len(values) == 1:
                    for value in values:
                        row[offset] = hash(value)
                elif len(values) <= slots:
                    if name == "core":
                        ordered = sorted(values, key=_by_length)
                        if len(ordered[0]) == len(ordered[1]):
                            flags |= FALLBACK
                            break
                    else:
                        ordered = sorted(values)
                    for slot, value in enumerate(ordered):
                        row[offset + slot] = hash(value)
                else:
                    flags |= FALLBACK
                    break
            if p.branches and not person:
                row[BRANCHES] = hash(p.branches)
        row[FLAGS] = flags
        out += row
    return np.array(out, dtype=np.int64).reshape(len(prepared), WIDTH)


class Columns:
    """Hash columns with each value's weight, built from record_hashes and the value counts.

    `texts` holds the people's full names, birth dates and postcodes (by record index, "" for others),
    which the bulk string similarities read.
    """

    def __init__(self, hashes: np.ndarray, weights: dict[str, np.ndarray],
                 texts: dict[str, list[str]] | None = None) -> None:
        self.hashes = hashes
        self.weights = weights
        self.texts = texts or {}
        flags = hashes[:, FLAGS]
        self.fallback = (flags & FALLBACK) != 0
        self.rest = (flags & REST) != 0
        self.landline = (flags & LANDLINE) != 0
        self.mobile = (flags & MOBILE) != 0
        self.person = (flags & PERSON) != 0

    @classmethod
    def build(cls, hashes: np.ndarray, freq: Frequencies, prepared: list[Prepared]) -> Columns | None:
        """None where the counts cannot back the weights (too few records, or two values with one hash).

        `prepared`: the records the hashes were made of (their texts are read for the similarities).
        """
        if freq.total < 50:
            return None
        person = (hashes[:, FLAGS] & PERSON) != 0
        people = [prepared[i] for i in np.flatnonzero(person).tolist()]
        texts = _texts(prepared, hashes)
        fits = (hashes[:, FLAGS] & FALLBACK) == 0
        weights: dict[str, np.ndarray] = {}
        for name, (role, default_u, m, divisor) in _WEIGHED.items():
            slots = _SLOTS[name]
            counter = freq.counts.get(role) or {}
            offset = _OFFSETS[name]
            values = hashes[:, offset : offset + slots]
            read = np.zeros(len(hashes), dtype=bool)
            if "o" in _READ_BY[name]:
                read |= ~person
            if "p" in _READ_BY[name]:
                read |= person & fits
            if not counter:
                # Nothing counted in this role: Frequencies.u gives every value the default.
                weights[name] = np.full(values.shape, _weight(default_u, m) / divisor)
                continue
            keys = list(counter.keys())
            counts_list = list(counter.values())
            if "p" in _READ_BY[name] and name not in _COUNTED_FOR_PEOPLE and people:
                # The people's own values of a role counted for organisations only: count 0 unless an
                # organisation has them, but their hashes must not collide with the counted ones either.
                attribute = next(a for n, a, _s in FIELDS if n == name)
                extra = {v for p in people for v in getattr(p, attribute)}.difference(counter)
                keys += extra
                counts_list += [0] * len(extra)
            known = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
            counts = np.array(counts_list, dtype=np.float64)
            order = np.argsort(known)
            known, counts = known[order], counts[order]
            if len(known) > 1 and not (known[1:] != known[:-1]).all():
                return None
            at = np.minimum(np.searchsorted(known, values), len(known) - 1)
            found = known[at] == values
            if not found[(values != NONE) & read[:, None]].all():
                return None
            count = np.where(found, counts[at], 0.0)
            # scoring.Frequencies.u and _w, as arrays.
            u = np.where(count > 1, np.minimum(1.0, count / freq.total), min(default_u, 1.0 / freq.total))
            weight = np.log2(max(m, 1e-9) / np.maximum(u, 1e-12))
            weights[name] = weight / divisor if divisor != 1.0 else weight
        return cls(hashes, weights, texts)

    def _column(self, name: str, slot: int = 0) -> np.ndarray:
        return self.hashes[:, _OFFSETS[name] + slot]

    def plainly_different(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """True where the pair (left[k], right[k]) certainly scores "different"; False where unsure.

        Two organisations or two people: score_pair's weighing. A person and an organisation: always (a
        hard conflict).
        """
        out = np.zeros(len(left), dtype=bool)
        person_left, person_right = self.person[left], self.person[right]
        out |= person_left != person_right
        organisations = np.flatnonzero(~(person_left | person_right))
        if len(organisations):
            out[organisations] = self._sift(self._organisations, left[organisations], right[organisations])
        people = np.flatnonzero(person_left & person_right)
        if len(people):
            out[people] = self._sift(self._people, left[people], right[people])
        return out

    def _sift(self, weigh, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """weigh's verdict in three passes: every string similarity at the most it could add (cheap, and
        most pairs are below the band even so), then the one that can take most away computed, then all,
        each pass over the pairs the one before left."""
        out = weigh(left, right, exact=0)
        unsure = np.flatnonzero(~out & ~(self.fallback[left] | self.fallback[right]))
        for exact in (1, 2):
            if not len(unsure):
                break
            ruled = weigh(left[unsure], right[unsure], exact=exact)
            out[unsure] = ruled
            unsure = unsure[~ruled]
        return out

    def _common(self, name: str, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether the value sets meet, and the weight of left's first common value (0 where none)."""
        slots = _SLOTS[name]
        a = [self._column(name, s)[left] for s in range(slots)]
        b = [self._column(name, s)[right] for s in range(slots)]
        weights = self.weights.get(name)
        found = np.zeros(len(left), dtype=bool)
        weight = np.zeros(len(left), dtype=np.float64)
        for s in range(slots):
            hit = (a[s] != NONE) & ~found
            if not hit.any():
                break  # slots fill from the first: no later slot holds a value either
            hit &= np.logical_or.reduce([a[s] == b[t] for t in range(slots)])
            if weights is not None:
                weight[hit] = weights[left[hit], s]
            found |= hit
        return found, weight

    def _both(self, name: str, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        column = self._column(name)
        a, b = column[left], column[right]
        return a, b, (a != NONE) & (b != NONE)

    def _organisations(self, left: np.ndarray, right: np.ndarray, *, exact: int) -> np.ndarray:
        """score_pair's decision "different" for each pair of organisations, or False where unsure.

        The weights of _organisations and _contact_channels in score_pair's order; the similarities by
        cpdist with the scorers score_pair uses (exact 1: the names'; 2: also the streets' and postcodes'),
        else at their most (+5, +6, +1: plainly_different's sum).
        """
        size = len(left)
        total = np.zeros(size, dtype=np.float64)
        both, common = self._both, self._common

        a, b, present = both("credit", left, right)
        hard = present & (a != b)
        total += np.where(present, 30.0, 0.0)

        _a, _b, present = both("core", left, right)
        same_core, core_weight = common("core", left, right)
        same_pinyin, _ = common("pinyin", left, right)
        name = np.where(same_core, core_weight, np.where(present & same_pinyin, 8.0, 0.0))
        other = np.flatnonzero(present & ~same_core & ~same_pinyin)
        if len(other):
            name[other] = self._name_levels(left[other], right[other]) if exact >= 1 else 5.0
        total += name
        branches = self.hashes[:, BRANCHES]
        total -= np.where(present & (branches[left] != branches[right]), 12.0, 0.0)

        _a, _b, present = both("locality", left, right)
        found, weight = common("locality", left, right)
        total += np.where(present, np.where(found, weight, -14.0), 0.0)

        a, b, present = both("district", left, right)
        total -= np.where(present & (a != b), 3.0, 0.0)

        street = np.flatnonzero(self.rest[left] & self.rest[right])
        if len(street) and exact >= 2:
            sim = _similarities(self.texts["rest"], left[street], right[street], Levenshtein.normalized_similarity)
            total[street] += np.where(sim >= 0.9, 6.0, np.where(sim >= 0.7, 2.0, -2.0))
        elif len(street):
            total[street] += 6.0

        found, weight = common("contact", left, right)
        total += np.where(found, weight, 0.0)

        total = self._channels(left, right, total, self._postcodes_near(left, right, exact >= 2))
        return (hard | _below_band(total)) & ~(self.fallback[left] | self.fallback[right])

    def _name_levels(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """_company_names' weight for names with no core or pronunciation in common: the best similarity
        of their cores (_best), then whether one contains the other (_contains)."""
        cores = self.texts["core"]
        best = np.zeros(len(left), dtype=np.float64)
        contains = np.zeros(len(left), dtype=bool)
        for s in range(_SLOTS["core"]):
            for t in range(_SLOTS["core"]):
                at = np.flatnonzero((self._column("core", s)[left] != NONE) & (self._column("core", t)[right] != NONE))
                if not len(at):
                    continue
                xs, ys = cores[s][left[at]], cores[t][right[at]]
                best[at] = np.maximum(best[at], cpdist(xs, ys, scorer=Levenshtein.normalized_similarity))
                contains[at] |= np.array([len(u) >= 2 and len(v) >= 2 and (u in v or v in u)
                                          for u, v in zip(xs.tolist(), ys.tolist(), strict=True)], dtype=bool)
        return np.where(best >= 0.85, 5.0, np.where(contains, 2.0, np.where(best >= 0.7, -2.0, -8.0)))

    def _postcodes_near(self, left: np.ndarray, right: np.ndarray, exact: bool) -> np.ndarray:
        """Where both have a postcode and they differ: whether they are one digit apart (similarity 0.8);
        if not exact, as if they were."""
        if not exact:
            return np.ones(len(left), dtype=bool)
        near = np.zeros(len(left), dtype=bool)
        a, b, present = self._both("postcode", left, right)
        differ = np.flatnonzero(present & (a != b))
        if len(differ):
            codes = self.texts["postcode"]
            near[differ] = _similarities(codes, left[differ], right[differ], Levenshtein.normalized_similarity) >= 0.8
        return near

    def _channels(self, left: np.ndarray, right: np.ndarray, total: np.ndarray,
                  postcode_near: np.ndarray) -> np.ndarray:
        """_contact_channels' weights added to total (postcode_near: _postcodes_near)."""
        both, common = self._both, self._common
        _a, _b, present = both("phone", left, right)
        found, weight = common("phone", left, right)
        other = (self.landline[left] & self.landline[right]) | (self.mobile[left] & self.mobile[right])
        total += np.where(present & found, weight, 0.0)
        total -= np.where(present & ~found & other, 2.0, 0.0)

        _a, _b, present = both("email", left, right)
        found, weight = common("email", left, right)
        domain_found, domain_weight = common("domain", left, right)
        total += np.where(present, np.where(found, weight, np.where(domain_found, domain_weight, -1.5)), 0.0)

        _a, _b, present = both("postcode", left, right)
        found, weight = common("postcode", left, right)
        total += np.where(present, np.where(found, weight, np.where(postcode_near, 1.0, -3.0)), 0.0)
        return total

    def _people(self, left: np.ndarray, right: np.ndarray, *, exact: int) -> np.ndarray:
        """score_pair's decision "different" for each pair of people, or False where unsure.

        The weights of _individuals for people with a full name (no given or family name, ID number,
        street, locality or region: those are left to Python), then _contact_channels, in score_pair's
        order; the similarities by cpdist with the scorers score_pair uses (exact 1: the birth dates';
        2: also the names' and postcodes'), else at their most (+6, +8, +1).
        """
        size = len(left)
        total = np.zeros(size, dtype=np.float64)
        both = self._both
        texts = self.texts

        a, b, present = both("name", left, right)
        same = present & (a == b)
        total += np.where(same, self.weights["name"][left, 0], 0.0)
        differ = np.flatnonzero(present & (a != b))
        if len(differ) and exact < 2:
            total[differ] += 6.0
        elif len(differ):
            names = texts["name"]
            sim = _similarities(names, left[differ], right[differ], JaroWinkler.similarity)
            total[differ] += np.where(sim >= 0.92, 6.0, np.where(sim >= 0.85, 2.0, -4.0))

        a, b, present = both("birth", left, right)
        same = present & (a == b)
        total += np.where(same, self.weights["birth"][left, 0], 0.0)
        differ = np.flatnonzero(present & (a != b))
        if len(differ) and exact < 1:
            total[differ] += 8.0
        elif len(differ):
            births = texts["birth"]
            x, y = left[differ], right[differ]
            distance = _similarities(births, x, y, OSA.distance)
            dates = texts["date"]  # YYYYMMDD as (year, month, day); -1 where not 8 digits
            dx, dy = dates[x], dates[y]
            swapped = (dx[:, 0] >= 0) & (dy[:, 0] >= 0) & (dx[:, 0] == dy[:, 0]) & (dx[:, 1] == dy[:, 2]) \
                & (dx[:, 2] == dy[:, 1])
            total[differ] += np.where(swapped, 8.0, np.where(distance == 1, 7.0, np.where(distance == 2, 0.0, -6.0)))

        _a, _b, present = both("locality", left, right)
        found, _weight = self._common("locality", left, right)
        total -= np.where(present & ~found, 6.0, 0.0)

        total = self._channels(left, right, total, self._postcodes_near(left, right, exact >= 2))
        return _below_band(total) & ~(self.fallback[left] | self.fallback[right])


def _below_band(total: np.ndarray) -> np.ndarray:
    """Where a summed weight certainly gives a score below the review band.

    score_pair rounds the score to 4 places before deciding, so below the band is below the lower edge
    of that rounding; NumPy's log2 may differ from math.log2 in the last bit (_MARGIN).
    """
    edge = scoring.REVIEW_BAND[0] - 0.00005
    return total - scoring.PRIOR_WEIGHT < math.log2(edge / (1.0 - edge)) - 1e-6 - _MARGIN


def _weight(u: float, m: float) -> float:
    return math.log2(max(m, 1e-9) / max(u, 1e-12))


def _texts(prepared: list[Prepared], hashes: np.ndarray) -> dict:
    """What the similarities read, by record index ("" where absent): organisations' name cores (in their
    slots' order) and street, people's full name and birth date (also as year, month, day; -1 where not
    8 digits), and everyone's postcode. Records left to Python get whatever is there (never read).

    One comprehension per field over attrgetter: a loop with a branch per record took 4-5 s at a million.
    """
    if _SLOTS["core"] != 2:
        raise AssertionError("the core slots are filled as the first and the second by length")

    def one(values: frozenset[str]) -> str:
        for value in values:
            return value
        return ""

    cores = list(map(attrgetter("cores"), prepared))
    first = [one(c) if len(c) < 2 else min(c, key=_by_length) for c in cores]
    second = [max(c, key=_by_length) if len(c) == 2 else "" for c in cores]
    del cores
    rests = [r[0] if r else "" for r in map(attrgetter("address_rest"), prepared)]
    codes = [one(c) if len(c) == 1 else "" for c in map(attrgetter("postcodes"), prepared)]
    dates = np.full((len(prepared), 3), -1, dtype=np.int64)
    for i in np.flatnonzero((hashes[:, FLAGS] & PERSON) != 0).tolist():
        birth = prepared[i].birth
        if len(birth) == 8 and birth.isascii() and birth.isdigit():
            dates[i] = (int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    # Object arrays: a pair's texts are gathered in C (a list comprehension took as long as cpdist).
    return {"core": (np.array(first, dtype=object), np.array(second, dtype=object)),
            "rest": np.array(rests, dtype=object),
            "name": np.array(list(map(attrgetter("full_name"), prepared)), dtype=object),
            "birth": np.array(list(map(attrgetter("birth"), prepared)), dtype=object), "date": dates,
            "postcode": np.array(codes, dtype=object)}


def _similarities(texts: np.ndarray, left: np.ndarray, right: np.ndarray, scorer) -> np.ndarray:
    """scorer(texts[left[k]], texts[right[k]]) for every k, in C (texts: an object array)."""
    return cpdist(texts[left], texts[right], scorer=scorer)
