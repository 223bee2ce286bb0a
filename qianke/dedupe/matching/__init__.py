"""The duplicate-detection engine: pure Python, no database.

    Record(id, kind, values)            a row to match, raw values by role
    compare(a, b) -> Match              one pair, with evidence
    find_matches(records)               blocking + scoring: pairs that are "same" or "review"
    cluster(records)                    groups of "same" records, guarded against chaining
    match_against(new, existing)        new rows against existing customers and each other
    customer_record(customer, contacts) adapter from qianke.customers.models
    calibrate(records, labels)          place the threshold from pairs a person labelled (optional)

THRESHOLD_SAME and REVIEW_BAND live in .scoring; set them there (e.g. `scoring.THRESHOLD_SAME = 0.95`)
to make the engine stricter or looser.
"""

from . import scoring
from .adapters import customer_record
from .engine import Cluster, calibrate, candidate_pairs, cluster, compare, find_matches, match_against
from .records import (
    INDIVIDUAL,
    INDIVIDUAL_ROLES,
    ORGANIZATION,
    ORGANIZATION_ROLES,
    ROLES,
    Prepared,
    Record,
    prepare,
)
from .scoring import REVIEW_BAND, THRESHOLD_SAME, Evidence, Match

__all__ = [
    "Record", "Evidence", "Match", "Prepared", "Cluster", "compare", "find_matches", "cluster",
    "match_against", "customer_record", "calibrate", "candidate_pairs", "prepare", "scoring",
    "THRESHOLD_SAME", "REVIEW_BAND", "ORGANIZATION", "INDIVIDUAL", "ORGANIZATION_ROLES",
    "INDIVIDUAL_ROLES", "ROLES",
]
