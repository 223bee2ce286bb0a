"""Demo data: a few dozen customers registered twice, written the way lists really differ (the region in
brackets, another legal form, the phone in another format), and the duplicate groups the scan finds
among them, so the 查重 page has something to review."""

from __future__ import annotations

import random

from django.db import transaction

from qianke.core.normalize import parse_company_name
from qianke.customers.models import Contact, Customer
from qianke.customers.services import contact_create, customer_update
from qianke.dedupe.jobs import customer_records, find_groups, persist_groups
from qianke.dedupe.models import DuplicateGroup

PAIRS = 40


def _variant_name(name: str, rng: random.Random) -> str:
    parts = parse_company_name(name)
    region = parts.regions[-1] if parts.regions else ""  # the most specific place named
    short_region = region.removesuffix("市").removesuffix("省")
    if short_region and rng.random() < 0.6:
        return f"{parts.core}（{short_region}）{parts.legal_form or '有限公司'}"
    legal = {"有限公司": "股份有限公司", "股份有限公司": "有限公司"}.get(parts.legal_form, "有限责任公司")
    return f"{short_region}{parts.core}{legal}"


def _variant_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("0"):
        return f"({digits[:3]}) {digits[3:7]} {digits[7:]}"
    if len(digits) == 12 and digits.startswith("0"):
        return f"({digits[:4]}) {digits[4:8]}-{digits[8:]}"
    return phone


def demo_generate(*, seed: int = 1, customers_from: int = 1) -> dict[str, int]:
    """`qianke demo` hook; does nothing when duplicate groups exist already.

    Rewrites some demo customers (from id `customers_from` on) as variants of others (the same company
    registered twice), so the demo keeps exactly the number of customers asked for."""
    if DuplicateGroup.objects.exists():
        return {}
    rng = random.Random(seed)
    candidates = list(Customer.objects.filter(pk__gte=customers_from, kind="organization", archived_at__isnull=True,
                                              owner__isnull=False)
                      .exclude(phone="").select_related("owner").order_by("pk")[:2000])
    if len(candidates) < 2:
        return {}
    pairs = min(PAIRS, len(candidates) // 10 or 1)
    picked = rng.sample(candidates, k=2 * pairs)
    chosen, targets = picked[:pairs], picked[pairs:]
    contacts = {c.customer_id: c for c in Contact.objects.filter(customer__in=chosen, is_primary=True)}
    with transaction.atomic():  # one commit for the eighty changes (each its own: ~0.25 s on SQLite)
        _plant_variants(chosen, targets, contacts, rng)
    # Matched among all the candidates, not the planted pairs alone: value frequencies counted over
    # 80 records in which every value occurs twice make each agreement look common (u = 2/80).
    counts = persist_groups(find_groups(list(customer_records([c.pk for c in candidates]))), remove_stale=False)
    return {"duplicate_customers": len(targets), "duplicate_groups": counts["groups"]}


def _plant_variants(chosen: list[Customer], targets: list[Customer], contacts: dict[int, Contact],
                    rng: random.Random) -> None:
    for original, target in zip(chosen, targets, strict=True):
        customer_update(actor=target.owner, customer_id=target.pk, confirm_duplicate=True, data={
            "name": _variant_name(original.name, rng), "phone": _variant_phone(original.phone),
            # The same company: its place, address and short name too (a variant kept the other
            # customer's district and postcode, in another city).
            "short_name": original.short_name, "province": original.province, "city": original.city,
            "district": original.district, "address": original.address, "postcode": original.postcode,
            "industry": original.industry, "email": original.email if rng.random() < 0.5 else "",
        })
        contact = contacts.get(original.pk)
        if contact is not None:
            contact_create(actor=target.owner, customer_id=target.pk, data={"name": contact.name,
                                                                           "mobile": contact.mobile})
