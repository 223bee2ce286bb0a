"""Duplicate-detection quality (and scan speed) of Qianke beside Splink and dedupe, on the same files.

    python bench/dedupe_quality.py [--data ../shared/data] [--only qianke] [--speed 1000000 [--repeat 3]]

Data sets with ground truth: FEBRL 4 (dataset4a + dataset4b deduplicated together), FEBRL 3, and a
Chinese company list made by bench/zh_companies.py (fixed seed; branches, namesakes in other cities
and sister companies as hard negatives). Pairwise precision, recall and F1 of the clusters against
the truth. Qianke uses no labels. Splink runs on DuckDB with the settings its FEBRL demo uses
(term-frequency adjustments, u by random sampling, m by EM over several blocking passes); dedupe is
trained by active learning with 60 labels answered from the ground truth, as a user would answer.
--speed N times the scan (prepare, block, score, cluster) of N generated company records and states
the peak memory; with --job, the dedupe.scan job's engine path (find_matches, which builds the evidence
of every reported pair, then cluster with those matches) instead of cluster() alone.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import random
import re
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from zh_companies import generate  # noqa: E402

from qianke.dedupe.matching import Record, cluster, find_matches  # noqa: E402
from qianke.dedupe.matching.engine import prepare_all  # noqa: E402

PERSON_FIELDS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
                 "date_of_birth", "soc_sec_id"]
COMPANY_FIELDS = ["name", "phone", "mobile", "email", "address", "postcode", "contact", "credit_code"]


# ---------------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------------


class Dataset:
    def __init__(self, name: str, kind: str, rows: list[dict], fields: list[str]) -> None:
        self.name, self.kind, self.rows, self.fields = name, kind, rows, fields
        self.truth = {r["id"]: r["entity"] for r in rows}


def febrl(data: Path, name: str, files: list[str]) -> Dataset:
    rows = []
    for file in files:
        with open(data / "dedupe" / "febrl" / file, encoding="utf-8") as f:
            reader = csv.reader(f, skipinitialspace=True)
            header = [h.strip() for h in next(reader)]
            for raw in reader:
                d = dict(zip(header, (x.strip() for x in raw), strict=True))
                row = {k: d[k] for k in PERSON_FIELDS}
                row["id"] = d["rec_id"]
                row["entity"] = d["rec_id"].split("-")[1]
                rows.append(row)
    return Dataset(name, "individual", rows, PERSON_FIELDS)


def chinese(entities: int = 3000, seed: int = 20261122) -> Dataset:
    return Dataset(f"Chinese companies ({entities:,} companies, seed {seed})", "organization",
                   generate(entities, seed), COMPANY_FIELDS)


def pairwise(clusters: list[list[str]], truth: dict[str, str]) -> tuple[float, float, float]:
    predicted = {tuple(sorted(p)) for c in clusters for p in itertools.combinations(c, 2)}
    groups: dict[str, list[str]] = {}
    for rid, entity in truth.items():
        groups.setdefault(entity, []).append(rid)
    true = {tuple(sorted(p)) for ids in groups.values() for p in itertools.combinations(ids, 2)}
    hits = len(predicted & true)
    precision, recall = hits / max(len(predicted), 1), hits / max(len(true), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


# ---------------------------------------------------------------------------------------------
# Qianke
# ---------------------------------------------------------------------------------------------


def qianke_records(ds: Dataset) -> list[Record]:
    if ds.kind == "individual":
        return [Record(r["id"], "individual", {
            "given_name": (r["given_name"],), "family_name": (r["surname"],),
            "street": (r["street_number"], r["address_1"], r["address_2"]), "locality": (r["suburb"],),
            "postcode": (r["postcode"],), "region": (r["state"],), "birth_date": (r["date_of_birth"],),
            "id_number": (r["soc_sec_id"],)}) for r in ds.rows]
    return [Record(r["id"], "organization", {k: (r[k],) for k in COMPANY_FIELDS}) for r in ds.rows]


def run_qianke(ds: Dataset) -> list[list[str]]:
    return cluster(qianke_records(ds))


# ---------------------------------------------------------------------------------------------
# Splink (DuckDB)
# ---------------------------------------------------------------------------------------------


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def run_splink(ds: Dataset) -> list[list[str]]:
    import duckdb
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    if ds.kind == "individual":
        columns = {f: [r[f] or None for r in ds.rows] for f in PERSON_FIELDS}
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),  # Australian postcodes: not the UK comparison
        ]
        blocking = [block_on("given_name", "surname"), block_on("date_of_birth"), block_on("soc_sec_id"),
                    block_on("postcode", "surname"), block_on("postcode", "given_name"),
                    block_on("address_1", "postcode")]
        training = [block_on("date_of_birth"), block_on("postcode"), block_on("given_name", "surname")]
        deterministic = [block_on("soc_sec_id", "date_of_birth"), block_on("given_name", "surname", "date_of_birth")]
    else:
        # What a Splink user would do first: digits of phones, lower-case e-mail.
        columns = {
            "name": [r["name"] or None for r in ds.rows],
            "phone": [_digits(r["phone"])[-8:] or None for r in ds.rows],
            "mobile": [_digits(r["mobile"])[-11:] or None for r in ds.rows],
            "email": [r["email"].lower() or None for r in ds.rows],
            "address": [r["address"] or None for r in ds.rows],
            "postcode": [r["postcode"] or None for r in ds.rows],
            "contact": [r["contact"] or None for r in ds.rows],
            "credit_code": [r["credit_code"] or None for r in ds.rows],
        }
        comparisons = [
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.7]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"), cl.ExactMatch("mobile"), cl.EmailComparison("email"),
            cl.LevenshteinAtThresholds("address", [2, 5]), cl.ExactMatch("postcode"),
            cl.ExactMatch("contact").configure(term_frequency_adjustments=True), cl.ExactMatch("credit_code"),
        ]
        blocking = [block_on("phone"), block_on("mobile"), block_on("email"), block_on("credit_code"),
                    block_on("substr(name, 3, 4)"), block_on("contact", "postcode")]
        training = [block_on("phone"), block_on("email"), block_on("substr(name, 1, 4)")]
        deterministic = [block_on("phone", "contact"), block_on("email", "contact"), block_on("credit_code")]
    columns["unique_id"] = [r["id"] for r in ds.rows]
    con = duckdb.connect()
    db_api = DuckDBAPI(connection=con)
    table = db_api.register(pa.table(columns))
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                               blocking_rules_to_generate_predictions=blocking)
    linker = Linker(table, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    groups: dict[str, list[str]] = {}
    for row in clusters.as_record_list():
        groups.setdefault(str(row["cluster_id"]), []).append(str(row["unique_id"]))
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# dedupe (active learning, 60 labels from the ground truth)
# ---------------------------------------------------------------------------------------------


def run_dedupe(ds: Dataset, labels: int = 60) -> list[list[str]]:
    import dedupe
    from dedupe import variables

    fields = ds.fields
    data = {r["id"]: {f: (r[f] or None) for f in fields} for r in ds.rows}
    if ds.kind == "individual":
        spec = [variables.String("given_name", has_missing=True), variables.String("surname", has_missing=True),
                variables.String("address_1", has_missing=True), variables.String("suburb", has_missing=True),
                variables.Exact("street_number", has_missing=True), variables.Exact("postcode", has_missing=True),
                variables.String("date_of_birth", has_missing=True), variables.String("soc_sec_id", has_missing=True)]
    else:
        for value in data.values():
            for f in ("phone", "mobile"):
                value[f] = _digits(value[f] or "")[-8:] or None
            value["email"] = (value["email"] or "").lower() or None
        spec = [variables.String("name"), variables.Exact("phone", has_missing=True),
                variables.Exact("mobile", has_missing=True), variables.String("email", has_missing=True),
                variables.String("address", has_missing=True), variables.Exact("postcode", has_missing=True),
                variables.Exact("contact", has_missing=True), variables.Exact("credit_code", has_missing=True)]
    random.seed(1)
    deduper = dedupe.Dedupe(spec, num_cores=1)
    print(f"  dedupe: preparing training on {len(data):,} records", file=sys.stderr, flush=True)
    deduper.prepare_training(data, sample_size=min(15000, len(data) * 3))
    matches, distinct = [], []
    for _ in range(labels):
        pair = deduper.uncertain_pairs()[0]
        same = ds.truth[_id_of(pair[0], data)] == ds.truth[_id_of(pair[1], data)]
        (matches if same else distinct).append(pair)
        deduper.mark_pairs({"match": [pair] if same else [], "distinct": [] if same else [pair]})
    print(f"  dedupe: {len(matches)} matches and {len(distinct)} distinct labelled; training", file=sys.stderr,
          flush=True)
    deduper.train()
    print("  dedupe: partitioning", file=sys.stderr, flush=True)
    clusters = deduper.partition(data, threshold=0.5)
    return [list(ids) for ids, _scores in clusters]


def _id_of(record: dict, data: dict) -> str:
    # dedupe hands back the record dicts; find their ids once through identity.
    index = getattr(_id_of, "index", None)
    if index is None or index[0] is not data:
        _id_of.index = (data, {id(v): k for k, v in data.items()})
        index = _id_of.index
    return index[1][id(record)]


# ---------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------


def speed(count: int, repeat: int = 1, job: bool = False) -> None:
    """Time the scan of `count` generated company rows `repeat` times; one table row per run, then medians.

    Phases are read off the engine's progress reports: prepare (normalise, hash blocking keys and column
    values; the value frequencies are counted meanwhile), block (candidate pairs), compare (column filter,
    score the rest), cluster (the rest).
    """
    entities = int(count / 1.85)
    t0 = time.perf_counter()
    rows = generate(entities, seed=99)[:count]
    records = [Record(r["id"], "organization", {k: (r[k],) for k in COMPANY_FIELDS}) for r in rows]
    del rows
    print(f"generated {len(records):,} records in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print("| run | records | wall | CPU (all processes) | prepare | block | compare | cluster | peak RSS parent "
          "| peak RSS worker | records in clusters | load before → after |\n|---|---|---|---|---|---|---|---|---|---|---|---|",
          flush=True)
    walls, cpus = [], []
    for run in range(1, repeat + 1):
        marks: dict[str, float] = {}
        started = time.perf_counter()

        def progress(stage: str, done: int, total: int, marks: dict = marks, started: float = started) -> None:
            now = time.perf_counter()
            if stage == "prepare" and done == total:
                marks["prepared"] = now
            elif stage == "compare" and done == 0:
                marks["blocked"] = now
            elif stage == "compare" and done == total:
                marks["compared"] = now
            if stage == "compare" and done == total or stage == "prepare" and done == total:
                print(f"  {stage} {done:,}/{total:,} at {now - started:.1f} s", file=sys.stderr, flush=True)

        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds()
        if job:
            # The dedupe.scan job's engine path: the reported pairs with their evidence, then the clusters.
            prepared = prepare_all(records, progress=progress)
            matches = find_matches(records, prepared=prepared, progress=progress)
            groups = cluster(records, matches=matches, prepared=prepared)
            del prepared, matches
        else:
            groups = cluster(records, progress=progress)
        ended = time.perf_counter()
        cpu = _cpu_seconds() - cpu_before
        wall = ended - started
        walls.append(wall)
        cpus.append(cpu)
        prepared = marks.get("prepared", started)
        blocked = marks.get("blocked", prepared)
        compared = marks.get("compared", blocked)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        dupes = sum(len(g) for g in groups if len(g) > 1)
        print(f"| {run} | {len(records):,} | {wall:.1f} s | {cpu:.1f} s | {prepared - started:.1f} s "
              f"| {blocked - prepared:.1f} s | {compared - blocked:.1f} s | {ended - compared:.1f} s | {own:,.0f} MiB "
              f"| {worker:,.0f} MiB | {dupes:,} in {sum(1 for g in groups if len(g) > 1):,} clusters "
              f"| {load_before:.1f} → {os.getloadavg()[0]:.1f} |", flush=True)
        del groups
    if repeat > 1:
        print(f"\nmedian of {repeat}: {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU",
              flush=True)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def isolated(engine, ds: Dataset, memory_gb: float, timeout: float) -> list[list[str]]:
    """Run a library in a forked child with a memory cap and a time limit: a shared machine survives it."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        limit = int(memory_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            sender.send(("ok", engine(ds)))
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            sender.send(("error", f"{type(exc).__name__}: {str(exc)[:100]}"))

    process = context.Process(target=child)
    process.start()
    sender.close()
    if not receiver.poll(timeout):
        process.kill()
        process.join()
        raise TimeoutError(f"gave up after {timeout:.0f} s")
    try:
        status, value = receiver.recv()
    except EOFError:
        process.join()
        raise MemoryError(f"killed (exit {process.exitcode}) within {memory_gb:g} GB") from None
    process.join()
    if status != "ok":
        raise RuntimeError(value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--only", action="append", choices=("qianke", "splink", "dedupe"))
    parser.add_argument("--sets", default="febrl4,febrl3,zh")
    parser.add_argument("--speed", type=int, default=0, help="also time the scan of N generated records")
    parser.add_argument("--repeat", type=int, default=1, help="time the scan this many times (medians)")
    parser.add_argument("--job", action="store_true",
                        help="with --speed: time the scan job's path (find_matches with evidence, then cluster)")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="memory cap for Splink and dedupe")
    parser.add_argument("--timeout", type=float, default=1200.0, help="time limit for Splink and dedupe, s")
    args = parser.parse_args()
    data = Path(args.data)
    makers = {
        "febrl4": lambda: febrl(data, "FEBRL 4 (4a+4b together, 10,000)", ["dataset4a.csv", "dataset4b.csv"]),
        "febrl3": lambda: febrl(data, "FEBRL 3 (5,000)", ["dataset3.csv"]),
        "zh": lambda: chinese(),
    }
    engines = {"qianke": run_qianke, "splink": run_splink, "dedupe": run_dedupe}
    chosen = args.only or list(engines)
    print("| data set | engine | precision | recall | F1 | time |\n|---|---|---|---|---|---|", flush=True)
    for key in args.sets.split(","):
        if not key:
            continue
        ds = makers[key]()
        for name in chosen:
            started = time.perf_counter()
            try:
                if name == "qianke":
                    clusters = engines[name](ds)
                else:
                    clusters = isolated(engines[name], ds, args.memory_gb, args.timeout)
            except Exception as exc:  # noqa: BLE001 - a failing library is reported, not fatal
                print(f"| {ds.name} | {name} | failed: {type(exc).__name__}: {str(exc)[:80]} | | | |", flush=True)
                continue
            elapsed = time.perf_counter() - started
            p, r, f1 = pairwise(clusters, ds.truth)
            print(f"| {ds.name} | {name} | {p:.4f} | {r:.4f} | **{f1:.4f}** | {elapsed:.1f} s |", flush=True)
    if args.speed:
        speed(args.speed, args.repeat, args.job)
    print(f"\n{os.cpu_count()} CPUs; Python {sys.version.split()[0]}", flush=True)


if __name__ == "__main__":
    main()
