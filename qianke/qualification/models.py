"""MAN qualification and O/A/B/C/D grade of a customer (PRODUCT §4, seeds 000 and 001).

A customer without a `Qualification` row is treated as unqualified (money and authority unknown,
no need) with grade D; rows are created on the first edit or follow-up, and the daily job
`qualification.grades` creates the missing rows of potential customers set-wise.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qianke.core.models import SettingsSingleton, TimeStampedModel


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    UNKNOWN = "unknown", _("Unknown")
    NO = "no", _("No")


class Need(models.TextChoices):
    NONE = "none", _("None")
    LATENT = "latent", _("Latent")
    EXPLICIT = "explicit", _("Explicit")
    URGENT = "urgent", _("Urgent")


class Grade(models.TextChoices):
    O = "O", _("O (ordered)")  # noqa: E741
    A = "A", _("A")
    B = "B", _("B")
    C = "C", _("C")
    D = "D", _("D")


QUALIFIED_NEEDS = (Need.EXPLICIT, Need.URGENT)


def is_qualified(money: str, authority: str, need: str) -> bool:
    """A qualified prospect (M+A+N): purchasing power yes, decision power reached yes, need explicit or urgent.

    Stored on the row as `is_qualified` so reports (e.g. the lead-source report) count qualified
    customers with one indexed column; services keep it in step with the three answers.
    """
    return money == Answer.YES and authority == Answer.YES and need in QUALIFIED_NEEDS


class Qualification(TimeStampedModel):
    customer = models.OneToOneField("customers.Customer", primary_key=True, on_delete=models.CASCADE,
                                    related_name="qualification", verbose_name=_("customer"))
    # MAN
    money = models.CharField(_("purchasing power"), max_length=10, choices=Answer.choices, default=Answer.UNKNOWN)
    budget = models.DecimalField(_("budget (¥)"), max_digits=14, decimal_places=2, null=True, blank=True)
    authority = models.CharField(_("decision power reached"), max_length=10, choices=Answer.choices,
                                 default=Answer.UNKNOWN)
    authority_contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", verbose_name=_("decision maker"))
    need = models.CharField(_("need"), max_length=10, choices=Need.choices, default=Need.NONE)
    is_qualified = models.BooleanField(_("qualified (M+A+N)"), default=False)
    # Stop contacting
    stop_contacting = models.BooleanField(_("stop contacting"), default=False)
    stop_reason = models.TextField(_("reason for stopping"), blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    stopped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("stopped by"))
    stop_overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+",
                                           verbose_name=_("stop overridden by"))
    stop_override_reason = models.TextField(_("override reason"), blank=True)
    # Grade
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, default=Grade.D)
    ordered = models.BooleanField(_("ordered"), default=False)
    expected_purchase_date = models.DateField(_("expected purchase date"), null=True, blank=True)
    # The day the stored grade or due date last changed (by an edit, a follow-up or the daily job).
    grade_computed_on = models.DateField(_("grade computed on"), null=True, blank=True)
    # Cadence
    last_follow_up_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    # The local date the cadence counts from: the last follow-up's day, before any the registration day.
    cadence_base_on = models.DateField(_("cadence counts from"))
    next_follow_up_due = models.DateField(_("next follow-up due"), null=True, blank=True)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        indexes = [
            # due today / overdue lists, with and without a grade filter
            models.Index(fields=["next_follow_up_due", "customer"], condition=Q(stop_contacting=False),
                         name="qual_due_idx"),
            models.Index(fields=["grade", "next_follow_up_due"], condition=Q(stop_contacting=False),
                         name="qual_grade_due_idx"),
            models.Index(fields=["is_qualified"], name="qual_qualified_idx"),
        ]

    def __str__(self) -> str:
        return f"qualification of customer {self.customer_id}"


def _days(default: int, *, null: bool = False):
    return models.PositiveSmallIntegerField(default=default, null=null, blank=null,
                                            validators=[MinValueValidator(1), MaxValueValidator(3650)])


class GradingSettings(SettingsSingleton):
    """One row (pk 1): grade thresholds in days until the expected purchase, and follow-up cadence per grade.

    A: expected within `a_within_days`, B: within `b_within_days`, C: within `c_within_days`,
    D: later or unknown. O (ordered) has no cadence unless `cadence_o_days` is set.
    """

    a_within_days = _days(30)
    b_within_days = _days(90)
    c_within_days = _days(180)
    cadence_o_days = _days(None, null=True)  # type: ignore[arg-type]
    cadence_a_days = _days(3)
    cadence_b_days = _days(7)
    cadence_c_days = _days(14)
    cadence_d_days = _days(30)

    class Meta:
        verbose_name = _("grading settings")
        verbose_name_plural = _("grading settings")

    def __str__(self) -> str:
        return "grading settings"

    def cadence(self, grade: str) -> int | None:
        return {"O": self.cadence_o_days, "A": self.cadence_a_days, "B": self.cadence_b_days,
                "C": self.cadence_c_days, "D": self.cadence_d_days}[grade]

    def threshold(self, grade: str) -> int | None:
        return {"A": self.a_within_days, "B": self.b_within_days, "C": self.c_within_days}.get(grade)


# ---------------------------------------------------------------------------------------------
# Explicit and hidden value (信息提纯)
# ---------------------------------------------------------------------------------------------

CRITERIA = ("industry", "scale", "nature", "region")
DEFAULT_WEIGHTS = {"industry": 30, "scale": 25, "nature": 15, "region": 30}


def _default_weights() -> dict[str, int]:
    return dict(DEFAULT_WEIGHTS)


class IdealProfile(SettingsSingleton):
    """One row (pk 1): the administrator's ideal customer profile, which gives each customer a fit score.

    A criterion whose target list is empty is not scored. Region: a province in `tier1_provinces`
    earns the region weight in full, one in `tier2_provinces` half of it.
    """

    industries = models.JSONField(_("target industries"), default=list, blank=True)
    scales = models.JSONField(_("target scales"), default=list, blank=True)
    natures = models.JSONField(_("target enterprise natures"), default=list, blank=True)
    tier1_provinces = models.JSONField(_("tier-1 provinces"), default=list, blank=True)
    tier2_provinces = models.JSONField(_("tier-2 provinces"), default=list, blank=True)
    weights = models.JSONField(_("weights"), default=_default_weights, blank=True)
    competition_penalty = models.PositiveSmallIntegerField(_("competition penalty (points)"), default=15,
                                                           validators=[MaxValueValidator(100)])
    discount_rate = models.DecimalField(_("discount rate (%)"), max_digits=5, decimal_places=2, default=8,
                                        validators=[MinValueValidator(0), MaxValueValidator(100)])

    class Meta:
        verbose_name = _("ideal customer profile")
        verbose_name_plural = _("ideal customer profile")

    def __str__(self) -> str:
        return "ideal customer profile"



class GrowthPotential(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class IndustryPosition(models.TextChoices):
    LEADER = "leader", _("Industry leader")
    MAJOR = "major", _("Major player")
    FOLLOWER = "follower", _("Follower")
    NICHE = "niche", _("Niche player")


class CustomerValue(TimeStampedModel):
    """Competition and hidden value of a customer, recorded by its rep; no row means nothing recorded yet."""

    customer = models.OneToOneField("customers.Customer", primary_key=True, on_delete=models.CASCADE,
                                    related_name="value_assessment", verbose_name=_("customer"))
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    competition_present = models.BooleanField(_("competition present"), default=False)
    growth_potential = models.CharField(_("growth potential"), max_length=10, choices=GrowthPotential.choices,
                                        blank=True)
    industry_position = models.CharField(_("position in its industry"), max_length=10,
                                         choices=IndustryPosition.choices, blank=True)
    bottleneck = models.TextField(_("bottleneck to conversion"), blank=True)
    estimated_annual_value = models.DecimalField(_("estimated annual value (¥)"), max_digits=14, decimal_places=2,
                                                 null=True, blank=True)
    years_to_realise = models.PositiveSmallIntegerField(_("years to realise"), null=True, blank=True,
                                                        validators=[MaxValueValidator(20)])
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("updated by"))

    class Meta:
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")

    def __str__(self) -> str:
        return f"value of customer {self.customer_id}"
