"""`qianke` subcommands of the dedupe app. Imported before Django is set up: import models lazily.

`qianke dedupe FILE --id-column COL [--map role=column …] --out OUT.csv` clusters the rows of any
CSV with the matching engine; it never touches the database.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path

# Header spellings recognised without --map (compared lower case, spaces/dashes as underscores).
HEADER_ROLES: dict[str, tuple[str, ...]] = {
    "name": ("名称", "客户名称", "公司名称", "企业名称", "单位名称", "客户", "公司", "name", "company", "company_name",
             "customer", "customer_name", "organization", "organisation", "姓名", "full_name"),
    "short_name": ("简称", "客户简称", "公司简称", "short_name", "abbreviation"),
    "contact": ("联系人", "联系人姓名", "contact", "contact_name", "contact_person"),
    "mobile": ("手机", "手机号", "手机号码", "移动电话", "mobile", "mobile_phone", "cell", "cellphone"),
    "phone": ("电话", "座机", "固话", "联系电话", "办公电话", "公司电话", "phone", "tel", "telephone", "landline",
              "phone_number"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "e_mail", "mail"),
    "address": ("地址", "公司地址", "详细地址", "通讯地址", "联系地址", "注册地址", "address", "addr"),
    "postcode": ("邮编", "邮政编码", "postcode", "zip", "zipcode", "zip_code", "postal_code"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "credit_code", "uscc", "social_credit_code"),
    "given_name": ("名", "given_name", "first_name", "firstname", "forename"),
    "family_name": ("姓", "姓氏", "family_name", "surname", "last_name", "lastname"),
    "birth_date": ("出生日期", "生日", "birth_date", "date_of_birth", "dob", "birthday", "birthdate"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "id_number", "soc_sec_id", "ssn", "national_id", "id_card"),
    "street": ("街道", "街道地址", "street", "street_number", "address_1", "address_2", "street_address"),
    "locality": ("城市", "区县", "suburb", "city", "town", "locality"),
    "region": ("省份", "省", "state", "province", "region"),
}
INDIVIDUAL_ONLY = {"given_name", "family_name", "birth_date", "id_number", "street", "locality", "region"}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the `qianke` parser (called by qianke.cli.build_parser)."""
    p = sub.add_parser(
        "dedupe",
        help="cluster the rows of a CSV file into duplicates (no database involved)",
        description="Find which rows of a CSV are the same customer. Writes COL,cluster_id,score,evidence.",
    )
    p.add_argument("file", help="CSV file (UTF-8 or GB18030; comma, semicolon or tab separated)")
    p.add_argument("--id-column", required=True, help="column that identifies a row")
    p.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                   help="use COLUMN for ROLE (repeatable; a role may take several columns)")
    p.add_argument("--kind", choices=("auto", "organization", "individual"), default="auto",
                   help="what the rows are (auto: individual when person roles are mapped)")
    p.add_argument("--out", required=True, help="output CSV file")
    p.set_defaults(func=cmd_dedupe)

    from qianke.dedupe.merge_cli import add_merge_commands  # `qianke merge …` (the merge side of the app)

    add_merge_commands(sub)


def _header_key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower().lstrip("\ufeff"))


def resolve_roles(headers: list[str], mapping: list[str]) -> dict[str, list[str]]:
    """Role → columns: explicit --map entries first; headers recognised for roles not mapped."""
    from qianke.cli import UsageError

    from .matching import ROLES

    by_key = {_header_key(h): h for h in headers}
    roles: dict[str, list[str]] = {}
    for item in mapping:
        role, sep, column = item.partition("=")
        role, column = role.strip(), column.strip()
        if not sep or not role or not column:
            raise UsageError(f"--map {item!r}: write ROLE=COLUMN, e.g. --map name=公司名称")
        if role not in ROLES:
            raise UsageError(f"--map {item!r}: unknown role {role!r}; roles: {', '.join(ROLES)}")
        actual = column if column in headers else by_key.get(_header_key(column))
        if actual is None:
            raise UsageError(f"--map {item!r}: the file has no column {column!r}")
        roles.setdefault(role, []).append(actual)
    used = {c for columns in roles.values() for c in columns}
    for role, spellings in HEADER_ROLES.items():
        if role in roles:
            continue
        for spelling in spellings:
            header = by_key.get(_header_key(spelling))
            if header is not None and header not in used:
                roles.setdefault(role, []).append(header)
                used.add(header)
    return roles


def _open_text(path: Path):
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _progress(stage: str, done: int, total: int) -> None:
    suffix = f"/{total:,}" if total else ""
    print(f"{stage}: {done:,}{suffix}", file=sys.stderr, flush=True)


def _evidence_text(evidence) -> str:
    parts = [f"{e.role}:{e.note}({e.weight:+.1f})" for e in evidence[:5]]
    return "; ".join(parts)


def cmd_dedupe(args: argparse.Namespace) -> int:
    import io

    from qianke.cli import UsageError

    from .matching import INDIVIDUAL, ORGANIZATION, Record, cluster, find_matches

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {args.file}")
    started = time.monotonic()
    text = _open_text(path)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        headers = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise UsageError(f"{args.file} is empty") from None
    if args.id_column not in headers:
        raise UsageError(f"--id-column {args.id_column!r}: the file has no such column")
    roles = resolve_roles(headers, args.map)
    for columns in roles.values():
        if args.id_column in columns:
            columns.remove(args.id_column)
    roles = {r: c for r, c in roles.items() if c}
    if not roles:
        raise UsageError("no column is mapped to a role; use --map ROLE=COLUMN")
    kind = args.kind if args.kind != "auto" else (INDIVIDUAL if INDIVIDUAL_ONLY & set(roles) else ORGANIZATION)
    mapped = ", ".join(f"{r}={'+'.join(c)}" for r, c in roles.items())
    print(f"roles: {mapped} ({kind})", file=sys.stderr)
    index = {h: i for i, h in enumerate(headers)}
    id_at = index[args.id_column]
    positions = {role: [index[c] for c in columns] for role, columns in roles.items()}
    records: list[Record] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        row = [cell.strip() for cell in row] + [""] * (len(headers) - len(row))
        rid = row[id_at]
        if not rid:
            raise UsageError(f"line {line}: the id column {args.id_column!r} is empty")
        if rid in seen:
            raise UsageError(f"line {line}: id {rid!r} appears twice")
        seen.add(rid)
        records.append(Record(rid, kind, {role: tuple(row[i] for i in at) for role, at in positions.items()}))
    print(f"read: {len(records):,} rows", file=sys.stderr)
    matches = find_matches(records, progress=_progress)
    groups = cluster(records, matches=matches)
    # Each row's evidence: its strongest match inside its own cluster.
    cluster_of = {rid: number for number, group in enumerate(groups, 1) for rid in group}
    best: dict[str, object] = {}
    for match in matches:
        if cluster_of[match.left] != cluster_of[match.right]:
            continue
        for rid in (match.left, match.right):
            if rid not in best or best[rid].score < match.score:
                best[rid] = match
    score_of = {rid: group.score for group in groups for rid in group}
    with open(args.out, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([args.id_column, "cluster_id", "score", "evidence"])
        for record in records:
            match = best.get(record.id)
            writer.writerow([
                record.id,
                cluster_of[record.id],
                f"{score_of[record.id]:.4f}" if match else "",
                _evidence_text(match.evidence) if match else "",
            ])
    duplicates = sum(len(g) for g in groups if len(g) > 1)
    print(f"done: {len(groups):,} clusters, {duplicates:,} rows in clusters of two or more, "
          f"{time.monotonic() - started:.1f} s → {args.out}", file=sys.stderr)
    return 0
