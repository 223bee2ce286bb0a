"""/api/v1/jobs: the background jobs and their last runs; queue a run (administrators)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from qianke.core.api import responses
from qianke.jobs.selectors import job_overview_for
from qianke.jobs.services import job_enqueue

router = Router(tags=["jobs"])


class JobRunOut(Schema):
    id: int
    name: str
    scheduled_for: dt.datetime
    today: dt.date
    manual: bool
    status: str
    attempts: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration: float | None
    counts: dict[str, int | float | str]
    error: str


class JobOut(Schema):
    name: str
    schedule: str
    description: str
    last_run: JobRunOut | None


@router.get("", response=responses(list[JobOut]), summary="List the background jobs with their last run (administrators)")
def job_list(request):
    return [{"name": item.job.name, "schedule": item.job.schedule.describe(), "description": str(item.job.description),
             "last_run": item.last_run} for item in job_overview_for(user=request.auth, recent=1)]


@router.post("/{name}/run", response=responses(JobRunOut, 202, write=True),
             summary="Queue a run of a job now (administrators); the worker runs it within seconds")
def job_run_post(request, name: str):
    return Status(202, job_enqueue(actor=request.auth, name=name))
