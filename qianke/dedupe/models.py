"""Duplicate groups found by the scan, pairs a person said are different, and merges (with their undo data).

A group is a suggestion: the scan rewrites open groups freely, while merged and dismissed ones are kept as
the record of a decision. Members are rows (not a JSON list) so "every member visible to the user" is one
indexed subquery.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class DuplicateGroup(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not duplicates")

    class Decision(models.TextChoices):
        SAME = "same", _("Same customer")
        REVIEW = "review", _("Please review")

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    score = models.FloatField(_("best score"))
    size = models.PositiveIntegerField(_("customers"), default=2)
    # sha1 of the sorted member ids: a re-scan finds the same open group again instead of adding one.
    signature = models.CharField(max_length=40)
    # [{left, right, score, decision, evidence: [{role, left, right, similarity, weight, note}]}]
    pairs = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("found at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # The import whose duplicate check found the group (None: found by the scan).
    import_job = models.ForeignKey("dataio.ImportJob", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="duplicate_groups", verbose_name=_("import"))

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("duplicate group")
        verbose_name_plural = _("duplicate groups")
        indexes = [
            models.Index(fields=["status", "decision", "score"], name="dedupe_group_list_idx"),
            models.Index(fields=["signature"], name="dedupe_group_signature_idx"),
        ]

    def __str__(self) -> str:
        return f"duplicate group {self.pk} ({self.size})"


class DuplicateMember(models.Model):
    group = models.ForeignKey(DuplicateGroup, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "customer"], name="dedupe_member_unique")]
        indexes = [models.Index(fields=["customer"], name="dedupe_member_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} in group {self.group_id}"


class NotDuplicatePair(models.Model):
    """A person said these two are different customers: a labelled pair the scan and the engine respect."""

    left = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="dedupe_not_duplicate_unique"),
            models.CheckConstraint(condition=Q(left__lt=F("right")), name="dedupe_not_duplicate_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ≠ {self.right_id}"


class Merge(models.Model):
    """One merge: the survivor, the merged customers (archived, pointing here) and what undo needs."""

    survivor = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("survivor"))
    group = models.ForeignKey(DuplicateGroup, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="merges")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("merged by"))
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    # Field values before and after, rows moved per table and field, what stayed behind: see services.
    snapshot = models.JSONField(default=dict)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"merge {self.pk} into {self.survivor_id}"


class MergedCustomer(models.Model):
    """The pointer from a merged (archived) customer to its merge and so to the survivor."""

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="merged")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["customer"], name="dedupe_merged_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} merged by {self.merge_id}"
