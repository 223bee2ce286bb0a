"""Demo origins: plausible sources, information sources, collection methods and referral chains.

`demo_origins(customer_ids=…, rng=random.Random(seed))` gives each listed customer without an origin
one, in batches with `bulk_create`. About a third come through 介绍客源; their introducers are
customers registered earlier (so chains never go round in a circle), drawn mostly from a small set
of keen referrers (猎犬) so that some chains run several levels deep.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction

from qianke.core.bulk import insert_rows
from qianke.leads.models import CollectionMethod, CustomerOrigin, InformationSource, Source

if TYPE_CHECKING:
    from qianke.core.demo import LoadedCustomer, LoadRows

DEFAULT_BATCH = 2_000
# (first source, weight, information sources, collection-method codes)
PROFILE: dict[str, tuple[int, list[str], list[str]]] = {
    "来电": (14, ["网络", "114", "报纸", "电台", "户外广告"], ["advertising", "internet", "public_directory"]),
    "来店": (18, ["路过", "网络", "电视", "海报", "户外广告"], ["advertising"]),
    "老客户续购": (8, ["介绍"], ["sales_archive"]),
    "老客户介绍": (14, ["介绍"], ["referral"]),
    "零服推荐": (5, ["介绍"], ["referral"]),
    "亲友介绍": (8, ["介绍"], ["personal_relations"]),
    "中介": (4, ["介绍"], ["agency"]),
    "市场活动": (10, ["市场活动"], ["exhibition"]),
    "外拓宣传": (9, ["外拓宣传", "海报"], ["canvassing", "direct_mail"]),
    "总部潜客": (4, ["网络"], ["industry_media", "competitor"]),
    "数据库": (6, ["网络", "杂志"], ["public_directory", "internet", "sales_archive"]),
}
REFERRAL_SOURCES = {"老客户介绍", "零服推荐", "亲友介绍"}
KEEN_REFERRERS = 40


class _Origins:
    """The origin draws, one customer after another in id order, with the referral chains' state."""

    def __init__(self, rng: random.Random) -> None:
        sources = {s.name: s.pk for s in Source.objects.filter(depth=1, active=True)}
        information = dict(InformationSource.objects.filter(active=True).values_list("name", "pk"))
        methods = dict(CollectionMethod.objects.filter(active=True).values_list("code", "pk"))
        # Per profile: (name, source id, information source ids, collection method ids); the names and
        # codes the database lacks left out once here instead of for every customer.
        self.profiles = [(name, sources[name], [information[i] for i in infos if i in information],
                          [methods[c] for c in codes if c in methods])
                         for name, (_w, infos, codes) in PROFILE.items() if name in sources]
        # rng.choices(…, cum_weights=…) draws as rng.choices(…, weights=…) does, without summing each time.
        self.cumulative = list(itertools.accumulate(PROFILE[p[0]][0] for p in self.profiles))
        self.rng = rng
        self.earlier: list[int] = []
        self.keen: list[int] = []

    def origin(self, pk: int, created_at, created_by: int | None) -> dict:
        rng, earlier, keen = self.rng, self.earlier, self.keen
        name, source, infos, methods = rng.choices(self.profiles, cum_weights=self.cumulative)[0]
        introducer = None
        if name in REFERRAL_SOURCES and earlier:
            introducer = rng.choice(keen) if keen and rng.random() < 0.6 else rng.choice(earlier)
            if len(keen) < KEEN_REFERRERS and rng.random() < 0.3:
                keen.append(introducer)
        row = {
            "customer_id": pk, "source_id": source,
            "information_source_id": rng.choice(infos) if infos else None,
            "collection_method_id": rng.choice(methods) if methods and rng.random() < 0.85 else None,
            "introducer_customer_id": introducer, "recorded_at": created_at, "recorded_by_id": created_by,
        }
        earlier.append(pk)
        if rng.random() < 0.02 and len(keen) < KEEN_REFERRERS:
            keen.append(pk)
        return row


def demo_origins(*, customer_ids: Iterable[int], rng: random.Random, batch_size: int = DEFAULT_BATCH) -> int:
    """Create origins for the customers (those that have none); returns how many were created."""
    from qianke.customers.models import Customer

    draws = _Origins(rng)
    if not draws.profiles:
        return 0
    ids = sorted(set(customer_ids))
    created = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        rows = (Customer.objects.filter(pk__in=chunk, origin__isnull=True).order_by("pk")
                .values_list("pk", "created_at", "created_by_id"))
        batch = [draws.origin(pk, created_at, created_by) for pk, created_at, created_by in rows]
        with transaction.atomic():
            insert_rows(CustomerOrigin, batch)
        created += len(batch)
    return created


def demo_load_rows(*, seed: int = 1, now: dt.datetime) -> LoadRows | None:
    """The origins as rows of the core load (core.demo.LoadRows): the same draws, in the same order, as
    demo_generate's pass over the same customers after the load."""
    from qianke.core.demo import LoadRows

    draws = _Origins(random.Random(seed))
    if not draws.profiles:
        return None

    def rows(customers: list[LoadedCustomer]) -> dict[str, list[dict]]:
        batch = []
        for c in customers:
            row = draws.origin(c.id, c.created_at, c.created_by_id)
            row["updated_at"] = now
            batch.append(row)
        return {"origins": batch}

    return LoadRows(tables={"origins": CustomerOrigin}, rows=rows)


def demo_generate(*, seed: int = 1, customers_from: int = 1) -> dict[str, int]:
    """`qianke demo` hook: origins (and referral chains) for every customer from id `customers_from` on
    that has none."""
    from qianke.customers.models import Customer

    ids = list(Customer.objects.filter(pk__gte=customers_from, origin__isnull=True)
               .order_by("pk").values_list("pk", flat=True))
    return {"origins": demo_origins(customer_ids=ids, rng=random.Random(seed))}
