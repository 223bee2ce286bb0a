"""Due computation, slot claims, run records, retries/takeovers, the queue and the worker loop."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from qianke.accounts.models import Role, User
from qianke.core.audit import _source
from qianke.core.errors import PermissionDenied
from qianke.jobs import registry
from qianke.jobs import services as svc
from qianke.jobs.models import JobRun
from qianke.jobs.registry import Job, daily, every, get_job, register_job
from qianke.jobs.worker import run_worker

pytestmark = pytest.mark.django_db


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


@pytest.fixture
def jobs(monkeypatch):
    """An empty registry for the test: only the jobs the test registers."""
    monkeypatch.setattr(registry, "_jobs", {})
    return registry._jobs


def counting_job(name="test.count", schedule=None):
    """Gives every user without a full name one: the counts report the rows it changed."""
    calls = []

    def func(*, today):
        calls.append((today, _source.get()))
        return {"changed": User.objects.filter(full_name="").update(full_name="—")}

    job = Job(name=name, func=func, schedule=schedule or daily(2, 0), description="count")
    register_job(job)
    return job, calls


def failing_job(name="test.fail", schedule=None):
    def func(*, today):
        raise RuntimeError("boom: the database said no")

    job = Job(name=name, func=func, schedule=schedule or daily(2, 0))
    register_job(job)
    return job


# --- registry and due computation --------------------------------------------------------------


def test_registry_keeps_its_api(jobs):
    job, _calls = counting_job("b.second", every(15))
    counting_job("a.first")
    assert get_job("b.second") is job and get_job("nope") is None
    assert [j.name for j in registry.all_jobs()] == ["a.first", "b.second"]
    assert daily(2, 5).describe() == "daily 02:05" and every(15).describe() == "every 15 min"


def test_daily_job_is_due_after_its_time_once_per_day(jobs):
    job, calls = counting_job(schedule=daily(2, 0))
    assert svc.due_jobs(local(2026, 3, 10, 1, 59)) == []
    assert svc.due_jobs(local(2026, 3, 10, 2, 1)) == [(job, local(2026, 3, 10, 2, 0))]
    assert svc.due_jobs(local(2026, 3, 10, 23, 0)) == [(job, local(2026, 3, 10, 2, 0))]  # late start: still today

    runs = svc.run_due_jobs(local(2026, 3, 10, 2, 1))
    assert [(r.name, r.status, r.today) for r in runs] == [("test.count", "succeeded", dt.date(2026, 3, 10))]
    assert calls == [(dt.date(2026, 3, 10), "job")]
    assert svc.due_jobs(local(2026, 3, 10, 23, 59)) == []
    assert svc.run_due_jobs(local(2026, 3, 10, 23, 59)) == []
    assert svc.due_jobs(local(2026, 3, 11, 1, 0)) == []
    assert svc.due_jobs(local(2026, 3, 11, 2, 0)) == [(job, local(2026, 3, 11, 2, 0))]


def test_every_n_minutes_job_is_due_once_per_slot(jobs):
    job, calls = counting_job(schedule=every(30))
    assert svc.due_jobs(local(2026, 3, 10, 10, 7)) == [(job, local(2026, 3, 10, 10, 0))]
    svc.run_due_jobs(local(2026, 3, 10, 10, 7))
    assert svc.due_jobs(local(2026, 3, 10, 10, 29)) == []
    assert svc.due_jobs(local(2026, 3, 10, 10, 30)) == [(job, local(2026, 3, 10, 10, 30))]
    svc.run_due_jobs(local(2026, 3, 10, 10, 31))
    assert len(calls) == 2 and JobRun.objects.filter(name=job.name).count() == 2


# --- claims ------------------------------------------------------------------------------------


def test_two_claims_for_one_slot_one_wins(jobs):
    job, _calls = counting_job()
    slot, now = local(2026, 3, 10, 2, 0), local(2026, 3, 10, 2, 1)
    first = svc._claim(job, slot, slot.date(), now)
    second = svc._claim(job, slot, slot.date(), now)
    assert first is not None and first.status == "running" and second is None
    assert JobRun.objects.count() == 1
    with pytest.raises(svc.SlotTaken):
        svc.job_run(name=job.name, today=dt.date(2026, 3, 10))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_connections_claim_one_slot_one_wins(jobs):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    job, _calls = counting_job()
    slot, now = local(2026, 3, 10, 2, 0), local(2026, 3, 10, 2, 1)
    barrier = threading.Barrier(4)
    results = []

    def claim():
        try:
            barrier.wait()
            results.append(svc._claim(job, slot, slot.date(), now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == 4
    assert sum(r is not None for r in results) == 1
    assert JobRun.objects.filter(name=job.name).count() == 1


def test_stale_running_row_is_taken_over(jobs):
    job, calls = counting_job()
    now = local(2026, 3, 10, 8, 0)
    slot = local(2026, 3, 10, 2, 0)
    JobRun.objects.create(name=job.name, scheduled_for=slot, today=slot.date(), status="running", attempts=1,
                          started_at=now - dt.timedelta(minutes=10))
    assert svc.due_jobs(now) == []  # a live worker is on it

    JobRun.objects.update(started_at=now - svc.STALE_AFTER - dt.timedelta(minutes=1))  # that worker died
    assert svc.due_jobs(now) == [(job, slot)]
    runs = svc.run_due_jobs(now)
    assert len(runs) == 1 and runs[0].status == "succeeded" and runs[0].attempts == 2
    assert JobRun.objects.count() == 1 and len(calls) == 1


def test_failed_job_is_recorded_and_the_worker_goes_on(jobs):
    failing_job("a.fail")
    counting_job("b.count")
    runs = svc.run_due_jobs(local(2026, 3, 10, 3, 0))
    assert [(r.name, r.status) for r in runs] == [("a.fail", "failed"), ("b.count", "succeeded")]
    failed = JobRun.objects.get(name="a.fail")
    assert "RuntimeError: boom: the database said no" in failed.error
    assert failed.finished_at is not None and failed.counts == {}


def test_failed_scheduled_run_is_retried_a_few_times(jobs):
    failing_job()
    now = local(2026, 3, 10, 3, 0)
    svc.run_due_jobs(now)
    JobRun.objects.update(finished_at=now)
    assert svc.due_jobs(now + dt.timedelta(minutes=5)) == []  # not at once
    for attempt in (2, 3):
        JobRun.objects.update(finished_at=now - svc.RETRY_AFTER - dt.timedelta(minutes=1))
        (run,) = svc.run_due_jobs(now)
        assert run.attempts == attempt and run.status == "failed"
    JobRun.objects.update(finished_at=now - dt.timedelta(hours=1))
    assert svc.due_jobs(now) == []  # gave up for today
    assert JobRun.objects.count() == 1


# --- running -----------------------------------------------------------------------------------


def test_a_second_run_changes_nothing(jobs, make_user):
    job, calls = counting_job()
    make_user(Role.SALES, username="a1")
    User.objects.update(full_name="")
    make_user(Role.SALES, username="a2")
    User.objects.update(full_name="")
    first = svc.job_run(name=job.name, force=True)
    second = svc.job_run(name=job.name, force=True)
    assert first.counts == {"changed": 2} and second.counts == {"changed": 0}
    assert first.manual and first.status == second.status == "succeeded"
    assert first.duration is not None and first.pid and first.host
    assert [source for _day, source in calls] == ["job", "job"]
    assert _source.get() == "web"  # the job's source does not leak


def test_job_run_for_a_given_day(jobs):
    job, calls = counting_job()
    run = svc.job_run(name=job.name, today=dt.date(2026, 1, 5), force=True)
    assert run.today == dt.date(2026, 1, 5) and calls[0][0] == dt.date(2026, 1, 5)


def test_unknown_job_lists_the_known_ones(jobs):
    counting_job("lifecycle.dormancy")
    with pytest.raises(svc.UnknownJob) as exc:
        svc.job_run(name="nope")
    assert "nope" in str(exc.value) and "lifecycle.dormancy" in str(exc.value)


def test_queued_run_is_picked_up_by_the_worker(jobs, org):
    job, calls = counting_job(schedule=daily(23, 59))
    with pytest.raises(PermissionDenied):
        svc.job_enqueue(actor=org.rep, name=job.name)
    queued = svc.job_enqueue(actor=org.admin, name=job.name)
    assert queued.status == "queued" and queued.requested_by == org.admin
    assert svc.job_enqueue(actor=org.admin, name=job.name) == queued  # no second one while pending
    runs = svc.run_due_jobs(local(2026, 3, 10, 12, 0))
    assert [r.pk for r in runs] == [queued.pk]
    queued.refresh_from_db()
    assert queued.status == "succeeded" and queued.manual and queued.counts == {"changed": 0}
    again = svc.job_enqueue(actor=org.admin, name=job.name)
    assert again.pk != queued.pk
    # a manual run whose worker died does not block "run now" for ever
    JobRun.objects.filter(pk=again.pk).update(status="running", started_at=timezone.now() - svc.STALE_AFTER * 2)
    assert svc.job_enqueue(actor=org.admin, name=job.name).pk not in (queued.pk, again.pk)


def test_prune_keeps_recent_runs(jobs):
    today = timezone.localdate()
    old = JobRun.objects.create(name="x", scheduled_for=timezone.now() - dt.timedelta(days=100), today=today,
                                status="succeeded")
    JobRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=100))
    JobRun.objects.create(name="x", scheduled_for=timezone.now(), today=today, status="succeeded")
    assert svc.job_runs_prune(today=today) == {"deleted": 1}
    assert svc.job_runs_prune(today=today) == {"deleted": 0}
    assert JobRun.objects.count() == 1


def test_the_app_registers_its_own_job():
    job = get_job("jobs.prune_runs")
    assert job is not None and job.schedule.every_minutes


# --- the worker loop ---------------------------------------------------------------------------


def test_worker_once_runs_what_is_due_and_returns(jobs, capsys):
    counting_job("a.count", every(5))
    failing_job("b.fail", every(5))
    assert run_worker(once=True) == 2
    assert run_worker(once=True) == 0
    assert JobRun.objects.filter(status="succeeded").count() == 1
    err = capsys.readouterr().err
    assert "a.count: succeeded" in err and "b.fail: failed" in err and "worker stopped" in err


def test_worker_stops_when_asked(jobs):
    stop = threading.Event()
    result = []
    thread = threading.Thread(target=lambda: result.append(run_worker(poll=0.05, stop=stop)))
    thread.start()
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and result == [0]


def test_worker_puts_back_the_signal_handlers_it_replaced(jobs):
    import signal

    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    run_worker(once=True)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


SIGTERM_CHILD_SCRIPT = """
import multiprocessing, os, signal, sys, threading
import django
django.setup()
from qianke.jobs import worker

def wait_long(ready):
    ready.set()
    threading.Event().wait(600)

context = multiprocessing.get_context("fork")
stop = threading.Event()
worker._default_signals_in_forked_children()
signal.signal(signal.SIGTERM, worker.stop_handler(stop))
ready = context.Event()
child = context.Process(target=wait_long, args=(ready,))
child.start()
assert ready.wait(60), "the child never ran"
child.terminate()
child.join(60)
code = child.exitcode
if child.is_alive():
    child.kill()
signal.raise_signal(signal.SIGTERM)
print(code, stop.is_set())
"""


def test_a_process_forked_under_the_workers_handler_still_ends_on_sigterm():
    """A job's worker pool (dedupe scan, import) is forked inside the worker: Pool.terminate() sends
    SIGTERM, and a child that only set the stop event would never end; in the worker itself the signal
    only asks the loop to stop. Run in a fresh single-threaded process, as the worker is (forking the
    test process, which has threads of its own, could deadlock the child for unrelated reasons)."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "qianke.settings"}
    result = subprocess.run([sys.executable, "-c", SIGTERM_CHILD_SCRIPT], capture_output=True, text=True,
                            timeout=180, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(-signal.SIGTERM), "True"]


def test_schedules_read_in_the_largest_whole_unit():
    from django.utils import translation

    with translation.override("en"):
        assert [every(n).label() for n in (1, 5, 60, 360, 1440, 10080, 90)] == [
            "every minute", "every 5 minutes", "every hour", "every 6 hours", "every day", "every 7 days",
            "every 90 minutes"]
        assert daily(2, 5).label() == "daily at 02:05"
    with translation.override("zh-hans"):
        assert every(10080).label() == "每 7 天" and daily(2, 5).label() == "每天 02:05"


def test_woken_job_is_queued_once_and_run_at_the_next_queue_round(jobs, org):
    job, calls = counting_job(schedule=every(60))
    woken = svc.job_wake(name=job.name, requested_by=org.rep)  # no administrator needed: the caller checked
    assert woken.status == "queued" and woken.manual and woken.requested_by == org.rep
    assert svc.job_wake(name=job.name) == woken  # one queued run is enough
    runs = svc.run_queued_jobs()
    assert [r.pk for r in runs] == [woken.pk] and len(calls) == 1
    # while it runs (it may have looked for work already) a new request queues another run
    JobRun.objects.filter(pk=woken.pk).update(status="running")
    assert svc.job_wake(name=job.name).pk != woken.pk
    with pytest.raises(svc.UnknownJob):
        svc.job_wake(name="nope")


def test_queue_round_runs_queued_runs_only(jobs, org):
    job, calls = counting_job(schedule=every(5))
    assert svc.run_queued_jobs() == [] and calls == []  # its slot is due, but that is the other round
    assert len(svc.run_due_jobs()) == 1


def test_worker_looks_at_the_queue_every_few_seconds_and_due_jobs_every_poll(jobs, monkeypatch):
    from qianke.jobs import worker

    rounds = []
    monkeypatch.setattr(worker, "run_due_jobs", lambda now, stop: rounds.append("due") or [])
    monkeypatch.setattr(worker, "run_queued_jobs", lambda stop: rounds.append("queue") or [])
    stop = threading.Event()
    thread = threading.Thread(target=lambda: run_worker(poll=3600, queue_poll=0.01, stop=stop))
    thread.start()
    try:
        for _ in range(500):
            if rounds.count("queue") >= 3:
                break
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join(5)
    assert rounds[0] == "due" and rounds.count("due") == 1 and rounds.count("queue") >= 3
    assert worker.QUEUE_POLL_SECONDS <= 3
