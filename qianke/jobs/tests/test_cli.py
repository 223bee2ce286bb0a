"""`qianke jobs list|run`, `qianke worker --once`, and `qianke serve` starting and stopping the worker."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from qianke import cli
from qianke.accounts.models import User
from qianke.jobs import registry
from qianke.jobs.models import JobRun
from qianke.jobs.registry import Job, daily, every, register_job

pytestmark = pytest.mark.django_db

BIN = Path(sys.executable).parent


@pytest.fixture
def jobs(monkeypatch):
    monkeypatch.setattr(registry, "_jobs", {})

    def count(*, today):
        return {"changed": User.objects.filter(full_name="").update(full_name="—")}

    register_job(Job(name="test.count", func=count, schedule=daily(0, 0), description="Counts changes"))
    register_job(Job(name="test.often", func=lambda *, today: {"seen": 1}, schedule=every(5)))


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_jobs_run_prints_the_counts_and_a_second_run_changes_nothing(capsys, jobs, make_user):
    make_user(username="x")
    User.objects.update(full_name="")
    code, out, err = run(capsys, "jobs", "run", "test.count", "--date", "2026-03-10")
    assert code == 0, err
    assert "test.count (2026-03-10) succeeded" in out and "changed=1" in out
    code, out, err = run(capsys, "jobs", "run", "test.count")
    assert code == 0 and "changed=0" in out
    assert JobRun.objects.filter(name="test.count", status="succeeded").count() == 2


def test_jobs_run_unknown_name_exits_2_listing_the_jobs(capsys, jobs):
    code, out, err = run(capsys, "jobs", "run", "nope")
    assert code == 2
    assert "qianke jobs run: error: NAME" in err and "nope" in err and "test.count" in err
    assert not JobRun.objects.exists()


def test_jobs_run_bad_date_names_the_argument(capsys, jobs):
    code, out, err = run(capsys, "jobs", "run", "test.count", "--date", "2026-02-30")
    assert code == 2 and "--date" in err
    assert not JobRun.objects.exists()


def test_jobs_run_failing_job_exits_1(capsys, monkeypatch):
    monkeypatch.setattr(registry, "_jobs", {})

    def fail(*, today):
        raise RuntimeError("out of disk")

    register_job(Job(name="test.fail", func=fail, schedule=daily(1, 0)))
    code, out, err = run(capsys, "jobs", "run", "test.fail")
    assert code == 1 and "RuntimeError: out of disk" in err
    assert JobRun.objects.get().status == "failed"


def test_jobs_list(capsys, jobs):
    run(capsys, "jobs", "run", "test.count")
    code, out, err = run(capsys, "jobs", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["name", "schedule"]
    count = next(line for line in lines if line.startswith("test.count"))
    assert "daily 00:00" in count and "succeeded" in count and "Counts changes" in count
    often = next(line for line in lines if line.startswith("test.often"))
    assert "every 5 min" in often and "never" in often


def test_worker_once_runs_due_jobs(capsys, jobs):
    code, out, err = run(capsys, "worker", "--once")
    assert code == 0, err
    assert {r.name for r in JobRun.objects.filter(status="succeeded")} == {"test.count", "test.often"}
    assert "test.often: succeeded" in err
    code, out, err = run(capsys, "worker", "--once")
    assert JobRun.objects.count() == 2  # nothing due the second time


# --- the real server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append((int(entry.name), cmdline))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_serve_starts_and_stops_the_worker(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QIANKE_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(QIANKE_HOME=str(tmp_path), LANG="C.UTF-8")
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([str(BIN / "qianke"), "serve", "--port", str(port), "--workers", "1", "--threads", "1"],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    worker_pid = None
    try:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        # A fresh home migrates first: allow for a loaded CI machine.
        assert _wait(healthy, 90), (tmp_path / "serve.log").read_text()
        workers = [pid for pid, cmd in _children(serve.pid) if "qianke.cli worker" in cmd]
        assert len(workers) == 1, _children(serve.pid)
        worker_pid = workers[0]

        def pruned() -> bool:  # the app's own every-6-hours job is due at once on a fresh database
            try:
                with sqlite3.connect(tmp_path / "qianke.sqlite3", timeout=1) as db:
                    return bool(db.execute("SELECT count(*) FROM jobs_jobrun WHERE name = 'jobs.prune_runs' "
                                           "AND status = 'succeeded'").fetchone()[0])
            except sqlite3.Error:
                return False

        assert _wait(pruned, 45), (tmp_path / "serve.log").read_text()
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
            if worker_pid:
                os.kill(worker_pid, signal.SIGKILL)
            raise
        log.close()
    assert _wait(lambda: not _alive(worker_pid), 5), "the worker outlived serve"
    text = (tmp_path / "serve.log").read_text()
    assert "worker started" in text and "job jobs.prune_runs: succeeded" in text and "worker stopped" in text


# --- demo data of capability apps --------------------------------------------------------------


def test_demo_capabilities_calls_the_modules_that_exist(monkeypatch):
    import types

    from qianke.core.demo import demo_capabilities

    calls = []
    module = types.ModuleType("qianke_fake_demo")
    module.demo_generate = lambda *, seed, now=None: calls.append(seed) or {"leads": 7}
    monkeypatch.setitem(sys.modules, "qianke_fake_demo", module)
    result = demo_capabilities(seed=3, modules=("qianke_fake_demo", "qianke.nothing_here.demo"))
    assert result == {"qianke_fake_demo": {"leads": 7}} and calls == [3]
