"""Candidate pairs by blocking, scoring, and clustering guarded against chaining."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from . import scoring
from .records import INDIVIDUAL, Prepared, Record, pinyin_of, prepare
from .scoring import Frequencies, Match, score_pair

# Blocks larger than this are not paired all-with-all (a common value says little and costs
# quadratically); their records still meet through their other, more selective keys.
MAX_BLOCK = 60
# Sorted-neighbourhood window on the name key: catches typos that change every exact key.
WINDOW = 4
# Clusters merge only while every pair across them still scores at least this (no chaining A–B–C
# where A and C are plainly different), and up to this size.
LINK_FLOOR = 0.2
MAX_CLUSTER = 200


def compare(a: Record, b: Record) -> Match:
    return score_pair(prepare(a), prepare(b))


def _keys(p: Prepared) -> Iterator[str]:
    for phone in p.phones:
        yield "t" + phone
    for email in p.emails:
        yield "e" + email
    for code in p.postcodes:
        if p.kind == INDIVIDUAL:
            if p.family:
                yield f"pf{code}|{p.family}"
            if p.given:
                yield f"pg{code}|{p.given}"
            for part in p.street:
                if part and not part.isdigit():
                    yield f"ps{code}|{part}"
        else:
            for core in p.cores:
                yield f"pc{code}|{core[:2]}"
    if p.kind == INDIVIDUAL:
        if p.id_number:
            yield "i" + p.id_number
        if p.birth:
            yield "b" + p.birth
            if p.family:
                yield f"bf{p.birth[:4]}|{p.family[:2]}"
        if p.given and p.family:
            yield "n" + "|".join(sorted((p.given, p.family)))
        elif p.full_name:
            yield "n" + p.full_name
        if p.given and p.locality:
            yield f"lg{p.locality}|{p.given}"
        if p.family and p.locality:
            yield f"lf{p.locality}|{p.family}"
    else:
        for code in p.credit_codes:
            yield "c" + code
        for core in p.cores:
            yield "o" + core
            for locality in p.localities:
                yield f"ol{locality}|{core}"
        for spelled in p.core_pinyin:
            yield "y" + spelled
        for contact in p.contacts:
            for locality in p.localities:
                yield f"cl{locality}|{contact}"


def _sort_key(p: Prepared) -> str:
    if p.kind == INDIVIDUAL:
        return (p.family or "") + " " + (p.given or "") if (p.family or p.given) else p.full_name
    return min(p.core_pinyin) if p.core_pinyin else ""


def candidate_pairs(prepared: list[Prepared], *, allowed: Callable[[int, int], bool] | None = None) -> set[int]:
    """Index pairs (encoded i * n + j, i < j) that share a blocking key or sit close in name order."""
    n = len(prepared)
    blocks: dict[str, list[int]] = {}
    for index, p in enumerate(prepared):
        for key in set(_keys(p)):
            blocks.setdefault(key, []).append(index)
    pairs: set[int] = set()
    for members in blocks.values():
        size = len(members)
        if size < 2 or size > MAX_BLOCK:
            continue
        for x in range(size):
            i = members[x]
            for y in range(x + 1, size):
                j = members[y]
                if allowed is None or allowed(i, j):
                    pairs.add(i * n + j)
    del blocks
    order = sorted(range(n), key=lambda i: _sort_key(prepared[i]))
    for position, i in enumerate(order):
        for j in order[position + 1 : position + 1 + WINDOW]:
            low, high = (i, j) if i < j else (j, i)
            if allowed is None or allowed(low, high):
                pairs.add(low * n + high)
    return pairs


def _score_pairs(prepared: list[Prepared], pairs: Iterable[int], freq: Frequencies,
                 progress: Callable[[int, int], None] | None = None) -> list[Match]:
    n = len(prepared)
    matches: list[Match] = []
    total = len(pairs) if hasattr(pairs, "__len__") else 0
    for done, code in enumerate(pairs, 1):
        i, j = divmod(code, n)
        match = score_pair(prepared[i], prepared[j], freq)
        if match.decision != "different":
            matches.append(match)
        if progress and done % 100_000 == 0:
            progress(done, total)
    return matches


def find_matches(records: Iterable[Record], *, progress: Callable[[str, int, int], None] | None = None) -> list[Match]:
    """Pairs among the records that are the same customer or need a review, best first."""
    prepared = _prepare_all(records, progress)
    freq = Frequencies(prepared)
    pairs = candidate_pairs(prepared)
    if progress:
        progress("compare", 0, len(pairs))
    matches = _score_pairs(prepared, pairs, freq, progress and (lambda d, t: progress("compare", d, t)))
    return sorted(matches, key=lambda m: (-m.score, m.left, m.right))


def _prepare_all(records: Iterable[Record], progress) -> list[Prepared]:
    prepared = []
    for count, record in enumerate(records, 1):
        prepared.append(prepare(record))
        if progress and count % 100_000 == 0:
            progress("prepare", count, 0)
    return prepared


def match_against(new: Iterable[Record], existing: Iterable[Record]) -> list[Match]:
    """Matches of each new record against the existing ones and against the other new ones.

    `left` is always the new record's id; pairs of two existing records are not reported.
    """
    new_prepared = [prepare(r) for r in new]
    existing_prepared = [prepare(r) for r in existing]
    prepared = new_prepared + existing_prepared
    boundary = len(new_prepared)
    freq = Frequencies(prepared)
    pairs = candidate_pairs(prepared, allowed=lambda i, j: i < boundary)
    matches = _score_pairs(prepared, pairs, freq)
    return sorted(matches, key=lambda m: (-m.score, m.left, m.right))


# ---------------------------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------------------------


class Cluster(list):
    """Record ids of one cluster; `score` is the weakest link that holds it together (1.0 alone)."""

    score: float = 1.0


def _conflicting(left: list[str], right: list[str], pair: Callable[[str, str], Match]) -> bool:
    """True if joining would put together two records that plainly differ.

    A pair across the groups that scores below LINK_FLOOR and has a conflict (another city, branch,
    credit code or ID) forbids the join; so do cross pairs that on average fall below the review band.
    """
    scores = []
    for x in left:
        for y in right:
            match = pair(x, y)
            if match.score < LINK_FLOOR and any(e.weight <= scoring.CONFLICT for e in match.evidence):
                return True
            scores.append(match.score)
    return sum(scores) / len(scores) < scoring.REVIEW_BAND[0]


def cluster(records: Iterable[Record], *, matches: list[Match] | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> list[Cluster]:
    """Groups of records that are the same customer (singletons included), biggest first.

    Pairs decided "same" are joined best first; two groups join only if no pair across them scores
    below LINK_FLOOR, so A≈B and B≈C do not drag a plainly different C into A's group.
    """
    records = list(records)
    prepared = {r.id: prepare(r) for r in records}
    if matches is None:
        matches = find_matches(records, progress=progress)
    freq = Frequencies(list(prepared.values()))
    parent: dict[str, str] = {r.id: r.id for r in records}
    members: dict[str, list[str]] = {r.id: [r.id] for r in records}
    weakest: dict[str, float] = {r.id: 1.0 for r in records}
    known: dict[tuple[str, str], Match] = {(m.left, m.right): m for m in matches}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def pair_score(x: str, y: str) -> Match:
        match = known.get((x, y)) or known.get((y, x))
        if match is None:
            match = score_pair(prepared[x], prepared[y], freq)
            known[(x, y)] = match
        return match

    for match in matches:
        if match.decision != "same":
            continue
        a, b = find(match.left), find(match.right)
        if a == b:
            continue
        if len(members[a]) + len(members[b]) > MAX_CLUSTER:
            continue
        if _conflicting(members[a], members[b], pair_score):
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        members[a].extend(members.pop(b))
        weakest[a] = min(weakest[a], weakest.pop(b), match.score)
    result = []
    for root, ids in members.items():
        group = Cluster(ids)
        group.score = weakest[root]
        result.append(group)
    result.sort(key=lambda g: (-len(g), g[0]))
    return result


__all__ = ["compare", "find_matches", "match_against", "cluster", "candidate_pairs", "Cluster",
           "MAX_BLOCK", "WINDOW", "scoring", "pinyin_of"]
