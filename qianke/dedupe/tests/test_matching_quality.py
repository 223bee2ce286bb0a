"""Quality guards: pairwise F1 of the engine on data with ground truth. They fail when quality drops.

FEBRL 1 (1,000 person records, 500 duplicated once) from ../shared/data, and a Chinese company list
from bench/zh_companies.py (fixed seed) with branches, namesakes in other cities and sister
companies as hard negatives. The full benchmark is bench/dedupe_quality.py.
"""

import csv
import importlib.util
import itertools
import os
from pathlib import Path

import pytest

from qianke.dedupe.matching import Record, cluster

ROOT = Path(__file__).resolve().parents[3]
# The public data sets sit beside the repository (../shared/data); a clone elsewhere finds them through
# QIANKE_SHARED_DATA or the workplace's usual place.
_DATA_DIRS = [Path(p) for p in (os.environ.get("QIANKE_SHARED_DATA"),) if p] + [ROOT.parent / "shared" / "data",
                                                                               Path("/work/shared/data")]
FEBRL = next((d / "dedupe" / "febrl" for d in _DATA_DIRS if (d / "dedupe" / "febrl").exists()),
             _DATA_DIRS[0] / "dedupe" / "febrl")


def _pairwise(groups, truth: dict[str, str]) -> tuple[float, float, float]:
    predicted = {tuple(sorted(p)) for g in groups for p in itertools.combinations(g, 2)}
    by_entity: dict[str, list[str]] = {}
    for rid, entity in truth.items():
        by_entity.setdefault(entity, []).append(rid)
    true = {tuple(sorted(p)) for ids in by_entity.values() for p in itertools.combinations(ids, 2)}
    hits = len(predicted & true)
    precision, recall = hits / max(len(predicted), 1), hits / max(len(true), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def _febrl(name: str) -> tuple[list[Record], dict[str, str]]:
    records, truth = [], {}
    with open(FEBRL / name, encoding="utf-8") as f:
        reader = csv.reader(f, skipinitialspace=True)
        header = [h.strip() for h in next(reader)]
        for row in reader:
            d = dict(zip(header, (x.strip() for x in row), strict=True))
            truth[d["rec_id"]] = d["rec_id"].split("-")[1]
            records.append(Record(d["rec_id"], "individual", {
                "given_name": (d["given_name"],), "family_name": (d["surname"],),
                "street": (d["street_number"], d["address_1"], d["address_2"]), "locality": (d["suburb"],),
                "postcode": (d["postcode"],), "region": (d["state"],), "birth_date": (d["date_of_birth"],),
                "id_number": (d["soc_sec_id"],)}))
    return records, truth


def _zh_companies(entities: int):
    spec = importlib.util.spec_from_file_location("zh_companies", ROOT / "bench" / "zh_companies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.generate(entities, seed=7)
    roles = ("name", "phone", "mobile", "email", "address", "postcode", "contact", "credit_code")
    records = [Record(r["id"], "organization", {k: (r[k],) for k in roles}) for r in rows]
    return records, {r["id"]: r["entity"] for r in rows}


@pytest.mark.skipif(not FEBRL.exists(), reason="shared FEBRL data not present")
def test_febrl1_person_records_pairwise_f1_stays_high():
    records, truth = _febrl("dataset1.csv")
    precision, recall, f1 = _pairwise(cluster(records), truth)
    assert precision >= 0.99 and recall >= 0.97, (precision, recall)
    assert f1 >= 0.985


def test_chinese_company_list_pairwise_f1_stays_high_with_hard_negatives():
    records, truth = _zh_companies(1200)
    precision, recall, f1 = _pairwise(cluster(records), truth)
    assert precision >= 0.99, precision  # branches, namesakes and sister companies stay apart
    assert f1 >= 0.985, (precision, recall)
