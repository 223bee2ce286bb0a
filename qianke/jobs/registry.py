"""The registry of background jobs.

A capability app registers its jobs in AppConfig.ready():

    register_job(Job(name="grades.recompute", func=recompute_grades, schedule=daily(2, 0),
                     description=_("Recompute grades from expected purchase dates")))

`func(*, today: date) -> dict[str, int]` does the work set-wise (no Python loop per row over a
million customers) and returns counts for the run record. Jobs must be idempotent: a second run
on the same day changes nothing. The worker (qianke serve) and `qianke jobs run NAME` call them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Schedule:
    """Daily at hh:mm local time, or every `every_minutes` minutes."""

    at: dt.time | None = None
    every_minutes: int | None = None

    def describe(self) -> str:
        """A fixed form for the API and the CLI: "daily 02:30", "every 5 min"."""
        if self.at is not None:
            return f"daily {self.at:%H:%M}"
        return f"every {self.every_minutes} min"

    def label(self) -> str:
        """For people, in their language, in the largest whole unit: "every 7 days", "every minute"."""
        from django.utils.translation import gettext, ngettext

        if self.at is not None:
            return gettext("daily at %(time)s") % {"time": f"{self.at:%H:%M}"}
        minutes = self.every_minutes or 1
        if minutes % 1440 == 0:
            days = minutes // 1440
            return ngettext("every day", "every %(n)d days", days) % {"n": days}
        if minutes % 60 == 0:
            hours = minutes // 60
            return ngettext("every hour", "every %(n)d hours", hours) % {"n": hours}
        return ngettext("every minute", "every %(n)d minutes", minutes) % {"n": minutes}


def daily(hour: int, minute: int = 0) -> Schedule:
    return Schedule(at=dt.time(hour, minute))


def every(minutes: int) -> Schedule:
    return Schedule(every_minutes=minutes)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., dict[str, int]]
    schedule: Schedule
    description: Any = ""


_jobs: dict[str, Job] = {}


def register_job(job: Job) -> None:
    _jobs[job.name] = job


def get_job(name: str) -> Job | None:
    return _jobs.get(name)


def all_jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda j: j.name)
