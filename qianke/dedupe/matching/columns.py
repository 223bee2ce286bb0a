"""Organisations' exact-agreement fields as NumPy columns, to rule out candidate pairs in bulk.

Most candidate pairs of a big scan are plainly different (scoring.plainly_different). Asking that of
each pair in Python reads two records scattered over gigabytes of objects (and, in forked workers,
copies every page whose reference counts it touches); the same sums over integer columns run in C and
leave Python only the pairs that could reach the review band. The sums are plainly_different's, term
by term in the same order; what is ruled out here is a subset of what it rules out (the survivors are
asked again in Python), so the matches are the same.

Values are kept as their str hashes, computed where the records are prepared (in the forked workers of
a big scan: a hash is the same there as in the parent). Two different values with one hash would look
equal: for the weighed fields that is checked against the value counts (every counted value must have
its own hash, else no column filter); for the others looking equal only raises the sum, so nothing
that plainly_different keeps is ruled out.
"""

from __future__ import annotations

import math

import numpy as np

from . import scoring
from .records import INDIVIDUAL, Prepared
from .scoring import Frequencies

NONE = -1  # CPython never returns -1 as a hash

# Hash columns of one record: (field, attribute, slots). A multi-valued field (phones: a mobile and a
# landline; localities: the name's and the address's city) keeps up to `slots` values, sorted as
# strings so that the first slot two records share holds min(common), the value plainly_different
# weighs; a record with more values than slots is left to Python.
FIELDS = (
    ("credit", "credit_codes", 1),
    ("core", "cores", 1),
    ("pinyin", "core_pinyin", 1),
    ("locality", "localities", 2),
    ("district", "districts", 1),
    ("contact", "contacts", 1),
    ("phone", "phones", 2),
    ("email", "emails", 1),
    ("domain", "domains", 1),
    ("postcode", "postcodes", 1),
)
_OFFSETS: dict[str, int] = {}
_width = 0
for _name, _attribute, _slots in FIELDS:
    _OFFSETS[_name] = _width
    _width += _slots
BRANCHES = _width  # the branch set, compared whole
FLAGS = _width + 1  # bits: FALLBACK, REST, LANDLINE, MOBILE
WIDTH = _width + 2
FALLBACK, REST, LANDLINE, MOBILE = 1, 2, 4, 8

# Weighed fields: Frequencies role, default u, m (as plainly_different asks freq.weight), divisor.
_WEIGHED = {
    "core": ("core", 1e-5, 0.85, 1.0),
    "locality": ("locality", 0.01, 0.95, 3.0),
    "contact": ("contact", 1e-4, 0.5, 1.0),
    "phone": ("phone", 1e-6, 0.7, 1.0),
    "email": ("email", 1e-7, 0.7, 1.0),
    "domain": ("domain", 1e-4, 0.3, 1.0),
    "postcode": ("postcode", 1e-3, 0.9, 1.0),
}
# Weights come from NumPy's log2, which may differ from math.log2 in the last bit: a pair this close
# to the band is left to Python.
_MARGIN = 1e-7


_LAYOUT = tuple((attribute, _OFFSETS[name], slots) for name, attribute, slots in FIELDS)


def record_hashes(prepared: list[Prepared]) -> np.ndarray:
    """One row of WIDTH int64 per record: its values' hashes (NONE where absent), then flags."""
    out: list[int] = []
    blank = [NONE] * WIDTH
    for p in prepared:
        row = blank.copy()
        if p.kind == INDIVIDUAL:
            row[FLAGS] = FALLBACK
            out += row
            continue
        flags = (
            (REST if p.address_rest else 0) | (LANDLINE if p.landlines else 0) | (MOBILE if p.mobiles else 0)
        )
        for attribute, offset, slots in _LAYOUT:
            values = getattr(p, attribute)
            if not values:
                continue
            if len(values) == 1:
                for value in values:
                    row[offset] = hash(value)
            elif len(values) <= slots:
                for slot, value in enumerate(sorted(values)):
                    row[offset + slot] = hash(value)
            else:
                flags |= FALLBACK
                break
        if p.branches:
            row[BRANCHES] = hash(p.branches)
        row[FLAGS] = flags
        out += row
    return np.array(out, dtype=np.int64).reshape(len(prepared), WIDTH)


class Columns:
    """Hash columns with each value's weight, built from record_hashes and the value counts."""

    def __init__(self, hashes: np.ndarray, weights: dict[str, np.ndarray]) -> None:
        self.hashes = hashes
        self.weights = weights
        flags = hashes[:, FLAGS]
        self.fallback = (flags & FALLBACK) != 0
        self.rest = (flags & REST) != 0
        self.landline = (flags & LANDLINE) != 0
        self.mobile = (flags & MOBILE) != 0

    @classmethod
    def build(cls, hashes: np.ndarray, freq: Frequencies) -> Columns | None:
        """None where the counts cannot back the weights (too few records, or two values with one hash)."""
        if freq.total < 50:
            return None
        weights: dict[str, np.ndarray] = {}
        for name, (role, default_u, m, divisor) in _WEIGHED.items():
            slots = next(s for n, _a, s in FIELDS if n == name)
            counter = freq.counts.get(role)
            if not counter:  # no record has a value here
                weights[name] = np.zeros((len(hashes), slots), dtype=np.float64)
                continue
            known = np.fromiter(map(hash, counter.keys()), dtype=np.int64, count=len(counter))
            counts = np.fromiter(counter.values(), dtype=np.float64, count=len(counter))
            order = np.argsort(known)
            known, counts = known[order], counts[order]
            if len(known) > 1 and not (known[1:] != known[:-1]).all():
                return None
            offset = _OFFSETS[name]
            values = hashes[:, offset : offset + slots]
            at = np.minimum(np.searchsorted(known, values), len(known) - 1)
            found = known[at] == values
            if not found[values != NONE].all():
                return None
            count = np.where(found, counts[at], 0.0)
            # scoring.Frequencies.u and _w, as arrays.
            u = np.where(count > 1, np.minimum(1.0, count / freq.total), min(default_u, 1.0 / freq.total))
            weight = np.log2(max(m, 1e-9) / np.maximum(u, 1e-12))
            weights[name] = weight / divisor if divisor != 1.0 else weight
        return cls(hashes, weights)

    def _column(self, name: str, slot: int = 0) -> np.ndarray:
        return self.hashes[:, _OFFSETS[name] + slot]

    def plainly_different(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """scoring.plainly_different of each pair (left[k], right[k]), or False where unsure."""
        size = len(left)
        total = np.zeros(size, dtype=np.float64)

        def both(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            column = self._column(name)
            a, b = column[left], column[right]
            return a, b, (a != NONE) & (b != NONE)

        def common(name: str, slots: int = 1) -> tuple[np.ndarray, np.ndarray]:
            """Whether the value sets meet, and the weight of the smallest common value (0 where none)."""
            a = [self._column(name, s)[left] for s in range(slots)]
            b = [self._column(name, s)[right] for s in range(slots)]
            weights = self.weights.get(name)
            found = np.zeros(size, dtype=bool)
            weight = np.zeros(size, dtype=np.float64)
            for s in range(slots):
                hit = (a[s] != NONE) & ~found
                hit &= np.logical_or.reduce([a[s] == b[t] for t in range(slots)])
                if weights is not None:
                    weight[hit] = weights[left[hit], s]
                found |= hit
            return found, weight

        a, b, present = both("credit")
        hard = present & (a != b)
        total += np.where(present, 30.0, 0.0)

        _a, _b, present = both("core")
        same_core, core_weight = common("core")
        same_pinyin, _ = common("pinyin")
        total += np.where(
            same_core, core_weight, np.where(present & same_pinyin, 8.0, np.where(present, 5.0, 0.0))
        )
        branches = self.hashes[:, BRANCHES]
        total -= np.where(present & (branches[left] != branches[right]), 12.0, 0.0)

        _a, _b, present = both("locality")
        found, weight = common("locality", 2)
        total += np.where(present, np.where(found, weight, -14.0), 0.0)

        a, b, present = both("district")
        total -= np.where(present & (a != b), 3.0, 0.0)

        total += np.where(self.rest[left] & self.rest[right], 6.0, 0.0)

        found, weight = common("contact")
        total += np.where(found, weight, 0.0)

        _a, _b, present = both("phone")
        found, weight = common("phone", 2)
        other = (self.landline[left] & self.landline[right]) | (self.mobile[left] & self.mobile[right])
        total += np.where(present & found, weight, 0.0)
        total -= np.where(present & ~found & other, 2.0, 0.0)

        _a, _b, present = both("email")
        found, weight = common("email")
        domain_found, domain_weight = common("domain")
        total += np.where(present, np.where(found, weight, np.where(domain_found, domain_weight, -1.5)), 0.0)

        _a, _b, present = both("postcode")
        found, weight = common("postcode")
        total += np.where(present, np.where(found, weight, 1.0), 0.0)

        band = scoring.REVIEW_BAND[0]
        low = total - scoring.PRIOR_WEIGHT < math.log2(band / (1.0 - band)) - 1e-6 - _MARGIN
        return (hard | low) & ~(self.fallback[left] | self.fallback[right])
