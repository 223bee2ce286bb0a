"""Public pools (公海): configuration, which pool each customer belongs to, owner history, return warnings.

A customer is in a pool when its `PoolEntry.in_pool` is true; its owner (and team) is then NULL, so
customer visibility (qianke.core.visibility) does not show it: pool members reach it through the
pool selectors. `PoolEntry` also carries what the daily jobs need set-wise (since when the current
owner holds it, who held it last and when they lost it), so a million-customer pool needs no Python
loop per row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qianke.core.models import TimeStampedModel
from qianke.qualification.models import Grade


def _days(default: int | None, label, *, null: bool = False):
    return models.PositiveSmallIntegerField(label, default=default, null=null, blank=null,
                                            validators=[MinValueValidator(1), MaxValueValidator(3650)])


class Pool(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    teams = models.ManyToManyField("accounts.Team", blank=True, related_name="pools",
                                   verbose_name=_("member teams"))
    cap_per_rep = models.PositiveIntegerField(
        _("cap per rep"), null=True, blank=True, default=50,
        help_text=_("Potential customers a rep may hold at most; empty for no cap."))
    cap_per_team = models.PositiveIntegerField(
        _("cap per team"), null=True, blank=True,
        help_text=_("Potential customers a team's reps may hold together; empty for no cap."))
    cooldown_days = models.PositiveSmallIntegerField(
        _("cool-down days"), default=30, validators=[MaxValueValidator(3650)],
        help_text=_("A former owner cannot reclaim a customer for this many days."))
    warn_days = models.PositiveSmallIntegerField(
        _("warn days before return"), default=3, validators=[MaxValueValidator(365)])
    exempt_open_deals = models.BooleanField(_("customers with open deals are exempt"), default=True)
    # The default return rule, for grades without their own rule.
    no_follow_up_days = _days(30, _("return after days without follow-up"), null=True)
    not_converted_days = _days(180, _("return after days not converted"), null=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("public pool")
        verbose_name_plural = _("public pools")

    def __str__(self) -> str:
        return self.name


class PoolRule(models.Model):
    """The return rule of one grade in one pool; an empty day count means that criterion is off."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rules", verbose_name=_("pool"))
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    no_follow_up_days = _days(None, _("return after days without follow-up"), null=True)
    not_converted_days = _days(None, _("return after days not converted"), null=True)

    class Meta:
        ordering = ["pool", "grade"]
        constraints = [models.UniqueConstraint(fields=["pool", "grade"], name="pool_rule_grade_unique")]
        verbose_name = _("return rule")
        verbose_name_plural = _("return rules")

    def __str__(self) -> str:
        return f"{self.pool} {self.grade}"


class PoolEntry(models.Model):
    """The pool a customer belongs to, and its pool state."""

    customer = models.OneToOneField("customers.Customer", primary_key=True, on_delete=models.CASCADE,
                                    related_name="pool_entry", verbose_name=_("customer"))
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="entries", verbose_name=_("pool"))
    in_pool = models.BooleanField(_("in the pool"), default=True)
    entered_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    # The current owner's start: the return rules count from it (a claim starts the clock afresh).
    owner_since = models.DateTimeField(_("owner since"), null=True, blank=True)
    owner_since_on = models.DateField(_("owner since (day)"), null=True, blank=True)
    last_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("last owner"), db_index=False)
    # When the last owner lost it: the cool-down counts from here.
    left_at = models.DateTimeField(_("left the last owner at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pool entry")
        verbose_name_plural = _("pool entries")
        indexes = [
            # The pool page: a pool's customers, newest arrivals first.
            models.Index(fields=["pool", "entered_at"], condition=Q(in_pool=True), name="poolentry_list_idx"),
            # The daily jobs: the owned customers of a pool.
            models.Index(fields=["pool", "owner_since_on"], condition=Q(in_pool=False), name="poolentry_owned_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.pool_id}"


class OwnerChange(models.Model):
    """One change of a customer's owner, whatever made it."""

    class Kind(models.TextChoices):
        CLAIM = "claim", _("Claimed from the pool")
        RELEASE = "release", _("Released to the pool")
        RETURN = "return", _("Returned to the pool (neglected)")
        ASSIGN = "assign", _("Assigned from the pool")
        TRANSFER = "transfer", _("Transferred")
        EDIT = "edit", _("Owner edited")
        POOL_ADD = "pool_add", _("Put into the pool")

    # Single-column indexes of the foreign keys are left out: the composite indexes below serve every
    # read, and a returns job writing hundreds of thousands of rows maintains fewer indexes.
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="owner_changes",
                                 verbose_name=_("customer"), db_index=False)
    from_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("from"), db_index=False)
    to_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("to"), db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"), db_index=False)
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("pool"), db_index=False)
    at = models.DateTimeField(_("time"))
    # Rows written together by one set-wise statement of a job share a batch key, so the statements
    # that follow (entries, customers, audit) find exactly them.
    batch = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("owner change")
        verbose_name_plural = _("owner history")
        indexes = [
            models.Index(fields=["customer", "at"], name="ownerchange_customer_idx"),
            # A job's batch, and one customer's row in it (the entries' update looks each one up).
            models.Index(fields=["batch", "customer"], name="ownerchange_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_owner_id} → {self.to_owner_id} ({self.kind})"


class PoolWarning(models.Model):
    """"This customer returns to the pool on `deadline` unless you follow it up": one row per customer,
    owner and deadline, written by the daily job `pool.warnings`."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("customer"), db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("owner"), db_index=False)
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+", verbose_name=_("pool"))
    deadline = models.DateField(_("returns on"))
    created_at = models.DateTimeField(_("warned at"))

    class Meta:
        ordering = ["deadline", "customer"]
        constraints = [models.UniqueConstraint(fields=["customer", "owner", "deadline"],
                                               name="poolwarning_unique")]
        indexes = [models.Index(fields=["owner", "deadline"], name="poolwarning_owner_idx")]
        verbose_name = _("return warning")
        verbose_name_plural = _("return warnings")

    def __str__(self) -> str:
        return f"{self.customer_id} returns {self.deadline}"
