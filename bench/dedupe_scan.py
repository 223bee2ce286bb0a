"""The dedupe.scan job end to end over an existing database: read, engine, write, per phase.

    QIANKE_HOME=... QIANKE_DATABASE_URL=postgresql://... python bench/dedupe_scan.py [--runs 2] [--rescan]
        [--groups-out groups.txt]

The database is the one the environment names (build it with `qianke init` and `qianke demo --customers N`).
Before each run the open groups are deleted, so every run writes all its groups again (the first scan, the
costliest write); --rescan keeps them, timing the weekly re-run that finds them again. Merged and dismissed
groups are decisions and are kept either way. Prints one row a run: customers, groups, the phases' wall
times, the run's wall and CPU time (the job's process and its forked workers), the peak resident memory of
the process and of the largest worker, and the load average before the run. --groups-out writes the open
groups found (members, decision, score, the pairs' evidence) one a line, sorted, to compare two versions
of the job on the same database.

Run it from another checkout (PYTHONPATH=that checkout) to time that version of the job: a job without
per-phase timings is timed phase by phase here, the way its duplicate_scan runs them.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qianke.settings")
    import django

    django.setup()


def _scan(timings: dict[str, float]) -> dict[str, int]:
    from qianke.dedupe import jobs

    if "timings" in inspect.signature(jobs.duplicate_scan).parameters:
        return jobs.duplicate_scan(timings=timings)
    # An older job: the same three steps as its duplicate_scan, timed one by one.
    start = time.perf_counter()
    records = list(jobs.customer_records())
    timings["read"] = time.perf_counter() - start
    start = time.perf_counter()
    groups = jobs.find_groups(records)
    timings["engine"] = time.perf_counter() - start
    start = time.perf_counter()
    counts = jobs.persist_groups(groups)
    timings["write"] = time.perf_counter() - start
    return {"customers": len(records), **counts}


def _open_groups() -> list[str]:
    from qianke.dedupe.models import DuplicateGroup

    lines = []
    for group in DuplicateGroup.objects.filter(status="open").prefetch_related("members"):
        members = sorted(m.customer_id for m in group.members.all())
        pairs = sorted(group.pairs, key=lambda p: (p["left"], p["right"]))
        lines.append(json.dumps({"members": members, "decision": group.decision, "score": group.score,
                                 "pairs": pairs}, ensure_ascii=False, sort_keys=True))
    return sorted(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rescan", action="store_true", help="keep the open groups between runs")
    parser.add_argument("--groups-out", type=Path, help="write the open groups found, one a line, sorted")
    args = parser.parse_args(argv)
    _setup()
    from django.db import connection

    from qianke.dedupe.models import DuplicateGroup

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs", flush=True)
    header = ("run", "customers", "groups", "new", "read s", "engine s", "write s", "wall s", "CPU s",
              "peak RSS MiB", "worker peak MiB", "load before")
    print(" | ".join(header), flush=True)
    walls = []
    for run in range(1, args.runs + 1):
        if not args.rescan:
            DuplicateGroup.objects.filter(status="open").delete()
        load = os.getloadavg()
        before = os.times()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        counts = _scan(timings)
        wall = time.perf_counter() - start
        after = os.times()
        cpu = sum(after[:4]) - sum(before[:4])
        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        walls.append(wall)
        print(" | ".join([str(run), f"{counts['customers']:,}", f"{counts['groups']:,}", f"{counts['new']:,}",
                          f"{timings.get('read', 0):.1f}", f"{timings.get('engine', 0):.1f}",
                          f"{timings.get('write', 0):.1f}", f"{wall:.1f}", f"{cpu:.1f}", f"{parent:,.0f}",
                          f"{children:,.0f}", " ".join(f"{x:.2f}" for x in load)]), flush=True)
    if len(walls) > 1:
        print(f"median wall {statistics.median(walls):.1f} s of {len(walls)} runs", flush=True)
    if args.groups_out:
        lines = _open_groups()
        args.groups_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines):,} open groups written to {args.groups_out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
