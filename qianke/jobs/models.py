"""One row per run of a background job; the row is also the claim on its slot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    name = models.CharField(_("job"), max_length=100)
    # The slot: for a daily job the day at its hh:mm, for a periodic job the start of its interval;
    # for a manual run the moment it was requested. Unique per job: inserting the row claims the slot.
    scheduled_for = models.DateTimeField(_("scheduled for"))
    today = models.DateField(_("run for day"))  # the `today` handed to the job function
    manual = models.BooleanField(_("manual"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    host = models.CharField(_("host"), max_length=100, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["name", "scheduled_for"], name="jobs_jobrun_one_per_slot")]
        indexes = [models.Index(fields=["name", "-created_at"], name="jobs_jobrun_name_created"),
                   models.Index(fields=["status"], name="jobs_jobrun_status")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.scheduled_for:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; None while queued or running."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
