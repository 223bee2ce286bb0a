"""Running background jobs: due computation, slot claims, run records, the queue of manual runs.

A run claims its slot by inserting JobRun(name, scheduled_for): the unique constraint lets exactly one
worker (of any number of `qianke serve` processes) have it. A "running" row whose worker died is taken
over after STALE_AFTER; a failed scheduled run is retried after RETRY_AFTER, at most MAX_ATTEMPTS times.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.core.audit import audit_source
from qianke.core.errors import Conflict, NotFound, PermissionDenied
from qianke.jobs.models import JobRun
from qianke.jobs.registry import Job, all_jobs, get_job

logger = logging.getLogger("qianke.jobs")

STALE_AFTER = dt.timedelta(minutes=getattr(settings, "QIANKE_JOB_STALE_MINUTES", 120))
RETRY_AFTER = dt.timedelta(minutes=getattr(settings, "QIANKE_JOB_RETRY_MINUTES", 15))
MAX_ATTEMPTS = 3
KEEP_RUNS = dt.timedelta(days=90)

Status = JobRun.Status


class UnknownJob(NotFound):
    code = "unknown_job"

    def __init__(self, name: str) -> None:
        names = ", ".join(j.name for j in all_jobs()) or "—"
        super().__init__(_("There is no job “%(name)s”. Known jobs: %(names)s.") % {"name": name, "names": names})


class SlotTaken(Conflict):
    """job_run(force=False): another run has this slot already (running, done, or failed for good)."""

    code = "slot_taken"

    def __init__(self, run: JobRun) -> None:
        self.run = run
        super().__init__(_("The job “%(name)s” has run for this slot already (%(status)s).")
                         % {"name": run.name, "status": run.get_status_display()})


def job_get(name: str) -> Job:
    job = get_job(name)
    if job is None:
        raise UnknownJob(name)
    return job


# ---------------------------------------------------------------------------------------------
# Slots
# ---------------------------------------------------------------------------------------------


def job_slot(job: Job, now: dt.datetime, today: dt.date | None = None) -> tuple[dt.datetime, dt.date]:
    """The slot `now` falls in and the day handed to the job.

    Daily: `today` (default: the local date of `now`) at the job's hh:mm, local time. Every N minutes:
    the start of the N-minute interval containing `now` (intervals counted from the Unix epoch).
    """
    if job.schedule.at is not None:
        day = today or timezone.localdate(now)
        return timezone.make_aware(dt.datetime.combine(day, job.schedule.at)), day
    minutes = job.schedule.every_minutes or 1
    seconds = minutes * 60
    start = dt.datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=dt.UTC)
    return start, today or timezone.localdate(start)


def _takeable(now: dt.datetime) -> Q:
    """Rows another worker may take over: running past STALE_AFTER (its worker died), or a failed
    scheduled run waiting for a retry."""
    return (Q(status=Status.RUNNING, started_at__lt=now - STALE_AFTER)
            | Q(status=Status.FAILED, manual=False, finished_at__lt=now - RETRY_AFTER, attempts__lt=MAX_ATTEMPTS))


def due_jobs(now: dt.datetime | None = None) -> list[tuple[Job, dt.datetime]]:
    """Scheduled jobs to run now, with their slot: daily jobs whose time today has passed and every-N
    jobs whose current N-minute slot has no run yet (or a run that may be taken over)."""
    now = now or timezone.now()
    due = []
    for job in all_jobs():
        slot, _day = job_slot(job, now)
        if slot > now:
            continue
        existing = JobRun.objects.filter(name=job.name, scheduled_for=slot)
        if not existing.exists() or existing.filter(_takeable(now)).exists():
            due.append((job, slot))
    return due


def _claim(job: Job, slot: dt.datetime, day: dt.date, now: dt.datetime, *, manual: bool = False,
           requested_by=None) -> JobRun | None:
    """Insert the run row for this slot (the claim), or take over a stale/retryable one; None when
    another worker has it."""
    fields: dict[str, Any] = {"status": Status.RUNNING, "started_at": timezone.now(), "host": socket.gethostname()[:100],
                              "pid": os.getpid()}
    try:
        with transaction.atomic():
            return JobRun.objects.create(name=job.name, scheduled_for=slot, today=day, manual=manual, attempts=1,
                                         requested_by=requested_by, **fields)
    except IntegrityError:
        pass
    existing = JobRun.objects.filter(name=job.name, scheduled_for=slot).filter(_takeable(now)).first()
    if existing is None:
        return None
    # Compare and set: of two workers taking over the same row, one updates it, the other 0 rows.
    won = JobRun.objects.filter(pk=existing.pk, status=existing.status, attempts=existing.attempts).update(
        attempts=F("attempts") + 1, finished_at=None, error="", counts={}, **fields)
    if not won:
        return None
    logger.warning("job %s: taking over the %s run of %s (attempt %d)", job.name, existing.status,
                   f"{timezone.localtime(slot):%Y-%m-%d %H:%M}", existing.attempts + 1)
    return JobRun.objects.get(pk=existing.pk)


def _execute(job: Job, run: JobRun) -> JobRun:
    """Call the job function with audit source "job" and record the outcome. Never raises for a failing job."""
    logger.info("job %s: started (%s %s, day %s)", job.name, "manual run" if run.manual else "slot",
                f"{timezone.localtime(run.scheduled_for):%Y-%m-%d %H:%M}", run.today)
    try:
        with audit_source("job"):
            counts = job.func(today=run.today) or {}
        run.counts = {str(k): v for k, v in dict(counts).items()}
        run.status = Status.SUCCEEDED
        run.error = ""
    except Exception:  # record any failure; the worker goes on with the next job
        run.status = Status.FAILED
        run.error = traceback.format_exc()[-10_000:]
        logger.error("job %s: failed\n%s", job.name, run.error)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "counts", "error", "finished_at"])
    if run.status == Status.SUCCEEDED:
        counts_text = ", ".join(f"{k}={v}" for k, v in run.counts.items()) or "no counts"
        logger.info("job %s: succeeded in %.1f s (%s)", job.name, run.duration or 0, counts_text)
    return run


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def job_run(*, name: str, today: dt.date | None = None, force: bool = False, requested_by=None) -> JobRun:
    """Run the job `name` now, in this process, and return its run record (failed runs included).

    force=False runs the job's scheduled slot (for `today`, default the current day) unless another run
    has it (SlotTaken). force=True runs it regardless as a manual run of its own: jobs are idempotent,
    so a manual run next to a scheduled one changes nothing twice. Unknown name: UnknownJob.
    """
    job = job_get(name)
    now = timezone.now()
    if force:
        run = None
        for _attempt in range(3):  # two manual runs in the same microsecond: try the next one
            run = _claim(job, timezone.now(), today or timezone.localdate(now), now, manual=True,
                         requested_by=requested_by)
            if run is not None:
                break
        assert run is not None
    else:
        slot, day = job_slot(job, now, today)
        run = _claim(job, slot, day, now)
        if run is None:
            raise SlotTaken(JobRun.objects.get(name=job.name, scheduled_for=slot))
    return _execute(job, run)


def job_enqueue(*, actor, name: str) -> JobRun:
    """Ask the worker to run `name` now (administrators). A run already queued or running is returned
    instead of a second one."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators run background jobs."))
    job = job_get(name)
    with transaction.atomic():
        now = timezone.now()
        pending = JobRun.objects.filter(
            Q(status=Status.QUEUED) | Q(status=Status.RUNNING, started_at__gte=now - STALE_AFTER),
            name=job.name, manual=True).first()
        if pending is not None:
            return pending
        return _queue(job, now, requested_by=actor if getattr(actor, "pk", None) else None)


def job_wake(*, name: str, requested_by=None) -> JobRun:
    """Have the worker run `name` at its next queue round (a few seconds) instead of its next slot:
    for work a user has just queued, e.g. an uploaded import. No permission check (the caller has
    done its own). A run already queued is returned; a running one is not enough, as it may have
    looked for work before the caller's was there."""
    job = job_get(name)
    with transaction.atomic():
        pending = JobRun.objects.filter(status=Status.QUEUED, name=job.name, manual=True).first()
        if pending is not None:
            return pending
        return _queue(job, timezone.now(), requested_by=requested_by)


def _queue(job: Job, now: dt.datetime, *, requested_by=None) -> JobRun:
    for _attempt in range(3):  # two requests in the same microsecond: the next one
        try:
            with transaction.atomic():
                return JobRun.objects.create(name=job.name, scheduled_for=now, today=timezone.localdate(now),
                                             manual=True, status=Status.QUEUED, requested_by=requested_by)
        except IntegrityError:
            now = now + dt.timedelta(microseconds=1)
    raise AssertionError("no free slot for a queued run")


def _claim_queued(run: JobRun) -> JobRun | None:
    won = JobRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1,
        host=socket.gethostname()[:100], pid=os.getpid())
    return JobRun.objects.get(pk=run.pk) if won else None


def run_queued_jobs(*, stop: threading.Event | None = None) -> list[JobRun]:
    """Run the queued manual runs ("run now", job_wake), oldest first; returns the runs made."""
    runs: list[JobRun] = []
    for queued in JobRun.objects.filter(status=Status.QUEUED).order_by("created_at"):
        if stop is not None and stop.is_set():
            return runs
        job = get_job(queued.name)
        if job is None:  # the job was removed since it was queued
            JobRun.objects.filter(pk=queued.pk, status=Status.QUEUED).update(
                status=Status.FAILED, finished_at=timezone.now(), error="unknown job")
            continue
        run = _claim_queued(queued)
        if run is not None:
            runs.append(_execute(job, run))
    return runs


def run_due_jobs(now: dt.datetime | None = None, *, stop: threading.Event | None = None) -> list[JobRun]:
    """Run queued manual runs, then every due scheduled job, one at a time; returns the runs made."""
    now = now or timezone.now()
    runs = run_queued_jobs(stop=stop)
    for job, slot in due_jobs(now):
        if stop is not None and stop.is_set():
            break
        _slot, day = job_slot(job, slot)
        run = _claim(job, slot, day, now)
        if run is not None:
            runs.append(_execute(job, run))
    return runs


# ---------------------------------------------------------------------------------------------
# Our own job
# ---------------------------------------------------------------------------------------------


def job_runs_prune(*, today: dt.date) -> dict[str, int]:
    """Delete finished run records older than 90 days (idempotent)."""
    cutoff = timezone.make_aware(dt.datetime.combine(today, dt.time())) - KEEP_RUNS
    deleted, _detail = JobRun.objects.filter(created_at__lt=cutoff,
                                             status__in=(Status.SUCCEEDED, Status.FAILED)).delete()
    return {"deleted": deleted}
