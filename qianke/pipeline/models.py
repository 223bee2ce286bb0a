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
from django.utils.translation import pgettext_lazy

from qianke.core.models import ArchivableModel, TimeStampedModel
from qianke.core.visibility import CustomerRelatedQuerySet, customer_visibility_q


class Semantic(models.TextChoices):
    # "Lost" alone already names the customer status 流失客户; a deal's outcome is 输单.
    OPEN = "open", pgettext_lazy("deal outcome", "Open")
    WON = "won", pgettext_lazy("deal outcome", "Won")
    LOST = "lost", pgettext_lazy("deal outcome", "Lost")


class PurchaseWindow(models.IntegerChoices):
    """Expected purchase time of the new-product prospect tracking table (seed 000), in months."""

    ONE = 1, _("Within 1 month")
    THREE = 3, _("Within 3 months")
    SIX = 6, _("Within 6 months")
    TWELVE = 12, _("Within 1 year")


class ProcurementStage(models.TextChoices):
    """The customer's procurement process (PRODUCT.md §5, seed 002)."""

    A = "a", _("a) Internal need and project approval")
    B = "b", _("b) Supplier survey and screening")
    C = "c", _("c) Purchase standards set")
    D = "d", _("d) Tender and evaluation")
    E = "e", _("e) Supplier inspection")
    F = "f", _("f) Cooperation agreement signed")


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
                                choices=[(Semantic.WON, Semantic.WON.label), (Semantic.LOST, Semantic.LOST.label)])
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
    procurement_stage = models.CharField(_("customer's procurement stage"), max_length=1, blank=True,
                                         choices=ProcurementStage.choices)
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
            # Covering: the forecast is read from the index alone.
            models.Index(fields=["semantic", "expected_close_date"], name="deal_forecast_idx",
                         include=["amount", "probability", "owner_id", "team_id", "customer_id", "archived_at",
                                  "process_id"]),
            models.Index(fields=["stage", "stage_entered_at"], name="deal_stage_idx"),
            models.Index(fields=["owner", "semantic"], name="deal_owner_idx"),
            models.Index(fields=["semantic", "next_step_due"], name="deal_next_step_idx"),
            models.Index(fields=["process", "opened_at"], name="deal_cohort_idx",
                         include=["furthest_order", "semantic", "customer_id", "archived_at"]),
            models.Index(fields=["semantic", "closed_at"], name="deal_closed_idx",
                         include=["amount", "customer_id", "archived_at", "process_id"]),
            # Stalled deals, longest waiting first: walked in this order until a page is full.
            models.Index(fields=["semantic", "stage_entered_at", "id"], name="deal_waiting_idx"),
            models.Index(fields=["process", "closed_at"], name="deal_process_closed_idx",
                         include=["semantic", "opened_at", "customer_id", "archived_at"]),
            # The few archived deals, left out of report aggregates by an anti-join.
            models.Index(fields=["process"], condition=Q(archived_at__isnull=False), name="deal_archived_idx"),
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
            models.Index(fields=["stage", "entered_at"], include=["duration_seconds", "deal_id"],
                         name="dealstage_stage_idx"),
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


# ---------------------------------------------------------------------------------------------
# Buying center, suppliers, value assessment, competitors (seed 002)
# ---------------------------------------------------------------------------------------------


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Key decision maker")
    INFLUENCER = "influencer", _("Influencer")
    PURCHASER = "purchaser", _("Purchaser")
    TECHNICAL = "technical", _("Technical evaluator")
    USER = "user", _("User")
    INSIDER = "insider", _("Insider (内线)")


# The relationship ladder 认识 → 约会 → 认同 → 信赖 → 同盟: (value, label, date field).
LADDER = [
    ("acquainted", _("Acquainted (认识)"), "acquainted_on"),
    ("meeting", _("Meeting (约会)"), "meeting_on"),
    ("approval", _("Approval (认同)"), "approval_on"),
    ("trust", _("Trust (信赖)"), "trust_on"),
    ("alliance", _("Alliance (同盟)"), "alliance_on"),
]


class BuyingCenterMember(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="buying_center", verbose_name=_("deal"))
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="buying_roles",
                                verbose_name=_("contact"))
    role = models.CharField(_("buying role"), max_length=20, choices=BuyingRole.choices)
    relationship = models.CharField(_("relationship"), max_length=20, blank=True,
                                    choices=[(v, label) for v, label, _f in LADDER])
    acquainted_on = models.DateField(_("acquainted on"), null=True, blank=True)
    meeting_on = models.DateField(_("first meeting on"), null=True, blank=True)
    approval_on = models.DateField(_("approval reached on"), null=True, blank=True)
    trust_on = models.DateField(_("trust reached on"), null=True, blank=True)
    alliance_on = models.DateField(_("alliance reached on"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deal", "role", "id"]
        verbose_name = _("buying-center member")
        verbose_name_plural = _("buying center")
        constraints = [models.UniqueConstraint(fields=["deal", "contact"], name="pipeline_buying_member_unique")]

    def __str__(self) -> str:
        return f"{self.contact_id} ({self.role})"

    @property
    def ladder(self) -> list[tuple[str, object, object, bool]]:
        """[(value, label, date reached, reached?)] up the ladder."""
        reached = [v for v, _l, _f in LADDER].index(self.relationship) if self.relationship else -1
        return [(v, label, getattr(self, f), i <= reached) for i, (v, label, f) in enumerate(LADDER)]


class Willingness(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class SupplierQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Suppliers are deleted, never archived: visible when their (live) customer is."""
        return self.filter(customer_visibility_q(user, "customer__"), customer__archived_at__isnull=True)


class CurrentSupplier(models.Model):
    """A supplier the customer buys from today: structure, problems, tenure, willingness to change."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="current_suppliers",
                                 verbose_name=_("customer"))
    name = models.CharField(_("supplier"), max_length=200)
    structure = models.CharField(_("role in the supply structure"), max_length=200, blank=True,
                                 # xgettext:no-python-format
                                 help_text=_("e.g. main supplier, 30 % share"))
    problems = models.CharField(_("current problems"), max_length=500, blank=True)
    since_year = models.PositiveSmallIntegerField(_("supplying since (year)"), null=True, blank=True)
    willingness_to_change = models.CharField(_("willingness to change"), max_length=10, blank=True,
                                             choices=Willingness.choices)
    how_won = models.CharField(_("how they won the business"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SupplierQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "id"]
        verbose_name = _("current supplier")
        verbose_name_plural = _("current suppliers")

    def __str__(self) -> str:
        return self.name


class ValueWeights(models.Model):
    """Weights of the six value-assessment dimensions (one row, pk 1; defaults until saved)."""

    share = models.PositiveSmallIntegerField(_("share after the deal"), default=1)
    value_to_us = models.PositiveSmallIntegerField(_("value to us"), default=1)
    customer_risk = models.PositiveSmallIntegerField(_("customer risk"), default=1)
    effort = models.PositiveSmallIntegerField(_("time, effort and cost"), default=1)
    deal_risk = models.PositiveSmallIntegerField(_("deal risk"), default=1)
    difficulty = models.PositiveSmallIntegerField(_("our capability and technical difficulty"), default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("value-assessment weights")
        verbose_name_plural = _("value-assessment weights")

    def __str__(self) -> str:
        return "value weights"

    @classmethod
    def load(cls) -> ValueWeights:
        return cls.objects.filter(pk=1).first() or cls(pk=1)


# The six dimensions of seed 002: (field, axis). Scores 1–5; on the difficulty axis 5 is hardest.
VALUE_DIMENSIONS = [
    ("share", "value"), ("value_to_us", "value"), ("customer_risk", "value_inverse"),
    ("effort", "difficulty"), ("deal_risk", "difficulty"), ("difficulty", "difficulty"),
]


class ValueAssessment(models.Model):
    deal = models.OneToOneField(Deal, on_delete=models.CASCADE, primary_key=True, related_name="value_assessment",
                                verbose_name=_("deal"))
    share = models.PositiveSmallIntegerField(_("share after the deal"), validators=[MinValueValidator(1),
                                                                                    MaxValueValidator(5)])
    share_note = models.CharField(_("note"), max_length=300, blank=True)
    effort = models.PositiveSmallIntegerField(_("time, effort and cost"), validators=[MinValueValidator(1),
                                                                                      MaxValueValidator(5)])
    effort_note = models.CharField(_("note"), max_length=300, blank=True)
    deal_risk = models.PositiveSmallIntegerField(_("deal risk"), validators=[MinValueValidator(1),
                                                                             MaxValueValidator(5)])
    deal_risk_note = models.CharField(_("note"), max_length=300, blank=True)
    value_to_us = models.PositiveSmallIntegerField(_("value to us"), validators=[MinValueValidator(1),
                                                                                 MaxValueValidator(5)])
    value_to_us_note = models.CharField(_("note"), max_length=300, blank=True)
    customer_risk = models.PositiveSmallIntegerField(_("customer risk"), validators=[MinValueValidator(1),
                                                                                     MaxValueValidator(5)])
    customer_risk_note = models.CharField(_("note"), max_length=300, blank=True)
    difficulty = models.PositiveSmallIntegerField(_("our capability and technical difficulty"),
                                                  validators=[MinValueValidator(1), MaxValueValidator(5)])
    difficulty_note = models.CharField(_("note"), max_length=300, blank=True)
    # Computed by the service with the weights in force when it was saved.
    value_score = models.DecimalField(_("value"), max_digits=4, decimal_places=2)
    difficulty_score = models.DecimalField(_("difficulty"), max_digits=4, decimal_places=2)
    assessed_at = models.DateTimeField(_("assessed at"), auto_now=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("assessed by"))

    class Meta:
        verbose_name = _("value assessment")
        verbose_name_plural = _("value assessments")

    def __str__(self) -> str:
        return f"value of deal {self.deal_id}"


class Competitor(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    products = models.CharField(_("products"), max_length=300, blank=True)
    prices = models.CharField(_("prices"), max_length=300, blank=True)
    channels = models.CharField(_("channels"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")

    def __str__(self) -> str:
        return self.name


class DealCompetitor(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="competitors", verbose_name=_("deal"))
    competitor = models.ForeignKey(Competitor, on_delete=models.PROTECT, related_name="deals",
                                   verbose_name=_("competitor"))
    their_rep = models.CharField(_("their sales rep"), max_length=100, blank=True)
    relation_to_customer = models.CharField(_("their relation to the customer"), max_length=300, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("customer's satisfaction with them (1–5)"), null=True,
                                                    blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    price_offered = models.DecimalField(_("their price (¥)"), max_digits=14, decimal_places=2, null=True, blank=True)
    # On a lost deal: this competitor took it.
    took_the_deal = models.BooleanField(_("took the deal"), default=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    class Meta:
        ordering = ["deal", "competitor__name"]
        verbose_name = _("competitor on a deal")
        verbose_name_plural = _("competitors on deals")
        constraints = [models.UniqueConstraint(fields=["deal", "competitor"], name="pipeline_deal_competitor_unique")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.competitor_id}"
