"""Explicit and hidden value (信息提纯): the fit score against the ideal profile, and the present value.

Pure functions: no database, so every number can be checked by hand.

Fit score
    Each criterion of the profile with a non-empty target list earns its weight when the customer
    matches it (industry, scale and enterprise nature: the customer's value is in the list; region:
    the province is tier 1 → full weight, tier 2 → half the weight, otherwise 0). Criteria without
    targets are left out. The base score is round(100 × points / maximum points). Competition present
    subtracts the profile's penalty points; the result is kept within 0–100. With no criterion set
    there is no score (None).

Present value
    The customer is expected to bring `annual value` at the end of each year for `years` years
    (the years to realise it); discounted at rate r:
        PV = V × (1 − (1 + r)^−N) / r          (PV = V × N when r = 0; PV = 0 when N = 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

CRITERION_LABELS = {"industry": _("Industry"), "scale": _("Scale"), "nature": _("Enterprise nature"),
                    "region": _("Region")}
PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


@dataclass(frozen=True)
class Part:
    criterion: str
    matched: bool
    points: Decimal
    max: int
    detail: str = ""  # e.g. "tier 2" for the region

    @property
    def label(self) -> Any:
        return CRITERION_LABELS[self.criterion]


@dataclass(frozen=True)
class Adjustment:
    kind: str
    label: Any
    points: int


@dataclass(frozen=True)
class FitScore:
    score: int | None  # after adjustments, 0–100; None when the profile sets no criterion
    base: int | None
    points: Decimal
    max_points: int
    parts: list[Part] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)


def normalise_province(name: str) -> str:
    """"浙江省", "浙江" and " 浙江 " compare equal; "上海市" and "上海" too."""
    name = (name or "").strip()
    for suffix in PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def region_tier(province: str, *, tier1: list[str], tier2: list[str]) -> int | None:
    key = normalise_province(province)
    if not key:
        return None
    if key in {normalise_province(p) for p in tier1}:
        return 1
    if key in {normalise_province(p) for p in tier2}:
        return 2
    return None


def fit_score(*, industry: str, scale: str, nature: str, province: str, profile: Any,
              competition_present: bool = False, competitor: str = "") -> FitScore:
    """The fit score of a customer with these attributes under `profile` (an IdealProfile or alike)."""
    weights = profile.weights or {}
    parts: list[Part] = []
    for criterion, value, targets in (("industry", industry, profile.industries), ("scale", scale, profile.scales),
                                      ("nature", nature, profile.natures)):
        if not targets:
            continue
        weight = int(weights.get(criterion, 0))
        matched = bool(value) and value in targets
        parts.append(Part(criterion, matched, Decimal(weight if matched else 0), weight))
    if profile.tier1_provinces or profile.tier2_provinces:
        weight = int(weights.get("region", 0))
        tier = region_tier(province, tier1=profile.tier1_provinces, tier2=profile.tier2_provinces)
        points = Decimal(weight) if tier == 1 else Decimal(weight) / 2 if tier == 2 else Decimal(0)
        parts.append(Part("region", tier is not None, points, weight, detail=f"tier {tier}" if tier else ""))
    adjustments: list[Adjustment] = []
    if competition_present and profile.competition_penalty:
        label = (_("Competition: %(name)s") % {"name": competitor} if competitor else _("Competition present"))
        adjustments.append(Adjustment("competition", label, -int(profile.competition_penalty)))
    points = sum((p.points for p in parts), Decimal(0))
    max_points = sum(p.max for p in parts)
    if not parts:
        return FitScore(None, None, points, 0, parts, adjustments)
    base = int((Decimal(100) * points / max_points).quantize(Decimal(1), ROUND_HALF_UP)) if max_points else 0
    score = max(0, min(100, base + sum(a.points for a in adjustments)))
    return FitScore(score, base, points, max_points, parts, adjustments)


def annuity_factor(*, rate_percent: Decimal, years: int) -> Decimal:
    """(1 − (1 + r)^−N) / r, or N when r = 0."""
    r = Decimal(rate_percent) / 100
    if years <= 0:
        return Decimal(0)
    if r == 0:
        return Decimal(years)
    return (1 - (1 + r) ** -years) / r


def present_value(*, annual_value: Decimal | None, years: int | None, rate_percent: Decimal) -> Decimal | None:
    """PV = V × (1 − (1 + r)^−N) / r, to the fen; None when the annual value or the years are unknown."""
    if annual_value is None or years is None:
        return None
    pv = Decimal(annual_value) * annuity_factor(rate_percent=rate_percent, years=years)
    return pv.quantize(Decimal("0.01"), ROUND_HALF_UP)
