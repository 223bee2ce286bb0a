"""Sales processes, their stages and gates, and deals (商机) walked through them (seed 002).

* A `Process` is an ordered list of `Stage`s. Each stage has a fixed semantic type (open / won / lost):
  code and reports branch on it, never on a stage's name, so administrators may rename and reorder.
* A stage's key node (关键节点) is its exit criterion: the checklist items marked `required` plus the
  deal fields listed in `required_fields`. qianke.pipeline.services.deal_move is the one transition
  function that enforces it (a manager may override with a recorded reason).
* `DealStageChange` is the stage history: one row per stay in a stage, with entered/left times, so time
  in stage is a subtraction and "how long has this deal been here" is the open row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qianke.core.models import ArchivableModel, TimeStampedModel
from qianke.core.visibility import CustomerRelatedQuerySet


class Semantic(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class PurchaseWindow(models.IntegerChoices):
    """Expected purchase time of the new-product prospect tracking table (seed 000), in months."""

    ONE = 1, _("Within 1 month")
    THREE = 3, _("Within 3 months")
    SIX = 6, _("Within 6 months")
    TWELVE = 12, _("Within 1 year")


# Deal fields a key node may require before a deal leaves the stage.
REQUIRABLE_FIELDS: dict[str, object] = {
    "products": _("products"),
    "amount": _("amount (¥)"),
    "expected_close_date": _("expected close date"),
    "quote_number": _("quote number"),
    "next_step": _("next step"),
    "next_step_due": _("next step due"),
    "purchase_window": _("expected purchase within"),
    "budget": _("budget (¥)"),
}


class Process(TimeStampedModel):
    # A stable key for the shipped templates; administrators' own processes may leave it empty.
    code = models.SlugField(_("code"), max_length=60, blank=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=100, blank=True,
                            help_text=_("e.g. development, sales, agent signing"))
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("sales process")
        verbose_name_plural = _("sales processes")

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="stages",
                                verbose_name=_("process"))
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=100)
    semantic = models.CharField(_("type"), max_length=10, choices=Semantic.choices, default=Semantic.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("default probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    participants = models.CharField(_("participants"), max_length=200, blank=True)
    work_content = models.TextField(_("work content"), blank=True)
    keyword = models.CharField(_("keyword"), max_length=100, blank=True)
    key_node = models.CharField(_("key node"), max_length=200, blank=True)
    # Names from REQUIRABLE_FIELDS the key node requires.
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    normal_days = models.PositiveIntegerField(_("normal duration (days)"), null=True, blank=True)

    class Meta:
        ordering = ["process", "order", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["process", "order"], name="pipeline_stage_order_unique"),
            models.UniqueConstraint(fields=["process", "name"], name="pipeline_stage_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.semantic == Semantic.OPEN


class ChecklistItem(models.Model):
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="checklist", verbose_name=_("stage"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("text"), max_length=300)
    required = models.BooleanField(_("required for the key node"), default=False)

    class Meta:
        ordering = ["stage", "order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.text


class DealReason(models.Model):
    """The configurable list of reasons a deal was won or lost."""

    semantic = models.CharField(_("for"), max_length=10,
                                choices=[(Semantic.WON, _("Won")), (Semantic.LOST, _("Lost"))])
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["semantic", "order", "id"]
        verbose_name = _("win/loss reason")
        verbose_name_plural = _("win/loss reasons")
        constraints = [models.UniqueConstraint(fields=["semantic", "name"], name="pipeline_reason_unique")]

    def __str__(self) -> str:
        return self.name


class Deal(TimeStampedModel, ArchivableModel):
    """A deal (商机): one customer, one process, one current stage."""

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="deals",
                                 verbose_name=_("customer"))
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="deals", verbose_name=_("process"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage"))
    # Copied from the stage on every move so reports filter open/won/lost without a join.
    semantic = models.CharField(_("state"), max_length=10, choices=Semantic.choices, default=Semantic.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="deals", verbose_name=_("owner"))
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="deals", verbose_name=_("team"))
    products = models.CharField(_("products"), max_length=300, blank=True)
    amount = models.DecimalField(_("amount (¥)"), max_digits=14, decimal_places=2, null=True, blank=True)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    # False while the probability follows the stage's default; set once someone overrides it.
    probability_overridden = models.BooleanField(_("probability set by hand"), default=False)
    quote_number = models.CharField(_("quote number"), max_length=60, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    purchase_window = models.PositiveSmallIntegerField(_("expected purchase within"), null=True, blank=True,
                                                       choices=PurchaseWindow.choices)
    budget = models.DecimalField(_("budget (¥)"), max_digits=14, decimal_places=2, null=True, blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)
    reason = models.ForeignKey(DealReason, null=True, blank=True, on_delete=models.PROTECT, related_name="deals",
                               verbose_name=_("won/lost reason"))
    reason_note = models.CharField(_("reason details"), max_length=500, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # Order of the furthest open or won stage the deal ever reached (moves back keep it), so the funnel
    # is one GROUP BY over deals instead of a walk through the stage history.
    furthest_order = models.PositiveSmallIntegerField(default=0, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))

    objects = CustomerRelatedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["customer", "semantic"], name="deal_customer_idx"),
            models.Index(fields=["semantic", "expected_close_date"], name="deal_forecast_idx"),
            models.Index(fields=["stage", "stage_entered_at"], name="deal_stage_idx"),
            models.Index(fields=["owner", "semantic"], name="deal_owner_idx"),
            models.Index(fields=["semantic", "next_step_due"], name="deal_next_step_idx"),
            models.Index(fields=["process", "opened_at"], name="deal_cohort_idx"),
            models.Index(fields=["semantic", "closed_at"], name="deal_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class DealStageChange(models.Model):
    """One stay of a deal in a stage: entered when moved in, left when moved out (null while there)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("deal"))
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("from"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="stays", verbose_name=_("stage"))
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    duration_seconds = models.BigIntegerField(_("time in stage (s)"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"))
    # Set when a manager moved the deal past an unmet key node: why, and what was unmet.
    override_reason = models.CharField(_("override reason"), max_length=500, blank=True)
    unmet = models.JSONField(_("unmet key-node items"), default=list, blank=True)

    class Meta:
        ordering = ["entered_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage history")
        indexes = [
            models.Index(fields=["deal", "entered_at"], name="dealstage_deal_idx"),
            # Covering on PostgreSQL: time in stage is read from the index alone.
            models.Index(fields=["stage", "entered_at"], include=["duration_seconds"], name="dealstage_stage_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["deal"], condition=Q(left_at__isnull=True),
                                    name="pipeline_one_open_stay_per_deal"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.stage_id} @ {self.entered_at:%Y-%m-%d}"

    @property
    def duration_days(self) -> float | None:
        return None if self.duration_seconds is None else round(self.duration_seconds / 86400, 1)


class DealChecklistTick(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="ticks", verbose_name=_("deal"))
    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="ticks",
                             verbose_name=_("checklist item"))
    done_at = models.DateTimeField(_("done at"))
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("done by"))

    class Meta:
        verbose_name = _("checklist tick")
        verbose_name_plural = _("checklist ticks")
        constraints = [models.UniqueConstraint(fields=["deal", "item"], name="pipeline_tick_unique")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.item_id}"


class ForecastSnapshot(models.Model):
    """The weekly photograph of the forecast (job pipeline.forecast_snapshot): per owner and expected close
    month, what was open and what it was worth weighted by probability. "Forecast versus actual" compares
    the last snapshot taken before a month began with the deals won in it."""

    taken_on = models.DateField(_("taken on"))
    month = models.DateField(_("month"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner"))
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"))
    deals = models.PositiveIntegerField(_("deals"), default=0)
    amount = models.DecimalField(_("amount (¥)"), max_digits=16, decimal_places=2, default=0)
    weighted = models.DecimalField(_("weighted amount (¥)"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["-taken_on", "month"]
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        indexes = [models.Index(fields=["taken_on", "month"], name="forecast_snapshot_idx")]

    def __str__(self) -> str:
        return f"{self.taken_on}: {self.month:%Y-%m} {self.owner_id}"
