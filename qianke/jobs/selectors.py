"""Reading job state: the registered jobs with their latest runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from qianke.core.errors import PermissionDenied
from qianke.jobs.models import JobRun
from qianke.jobs.registry import Job, all_jobs


@dataclass
class JobOverview:
    job: Job
    last_run: JobRun | None
    recent: list[JobRun] = field(default_factory=list)

    @property
    def pending(self) -> JobRun | None:
        """A run queued or running right now, if any."""
        return next((r for r in self.recent if r.status in (JobRun.Status.QUEUED, JobRun.Status.RUNNING)), None)


def job_runs_recent(*, name: str, limit: int = 10) -> list[JobRun]:
    """The latest runs of one job, newest first."""
    return list(JobRun.objects.filter(name=name).select_related("requested_by").order_by("-created_at", "-pk")[:limit])


def job_overview(*, recent: int = 5) -> list[JobOverview]:
    """Every registered job with its last `recent` runs (one query per job: the list is short)."""
    rows = []
    for job in all_jobs():
        runs = job_runs_recent(name=job.name, limit=recent)
        rows.append(JobOverview(job=job, last_run=runs[0] if runs else None, recent=runs))
    return rows


def job_overview_for(*, user, recent: int = 5) -> list[JobOverview]:
    """`job_overview` for the web and the API: administrators only."""
    if not getattr(user, "is_admin", False):
        raise PermissionDenied(_("Only administrators see background jobs."))
    return job_overview(recent=recent)
