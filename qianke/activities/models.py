from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qianke.core.models import ArchivableModel, TimeStampedModel
from qianke.core.visibility import CustomerRelatedQuerySet


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    NOTE = "note", _("Note")


class Activity(TimeStampedModel, ArchivableModel):
    """A follow-up (跟进记录) and, optionally, its next step with a due date."""

    # customer and actor have no index of their own: activity_customer_idx and activity_due_idx begin
    # with them.
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="activities",
                                 verbose_name=_("customer"), db_index=False)
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="activities", verbose_name=_("contact"))
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices, default=ActivityKind.CALL)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="activities", verbose_name=_("by"), db_index=False)
    content = models.TextField(_("content"))
    outcome = models.TextField(_("outcome"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_due = models.DateField(_("next follow-up due"), null=True, blank=True)
    next_done_at = models.DateTimeField(_("next step done at"), null=True, blank=True)

    objects = CustomerRelatedQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="activity_customer_idx"),
            models.Index(fields=["actor", "next_done_at", "next_due"], name="activity_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"
