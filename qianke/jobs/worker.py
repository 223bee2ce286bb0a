"""The background worker: runs due jobs one at a time until SIGTERM/SIGINT.

`qianke worker` runs it in the foreground; `qianke serve` starts it as a child process next to
gunicorn and stops it when it stops. Each run is logged on stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time

from django.db import close_old_connections, connection, connections
from django.utils import timezone

from qianke.jobs.services import run_due_jobs, run_queued_jobs

logger = logging.getLogger("qianke.jobs")

POLL_SECONDS = 10  # how often due scheduled jobs are looked for
QUEUE_POLL_SECONDS = 2  # how often queued runs ("run now", an uploaded import) are: one indexed query


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it may be replaced, e.g. by pytest)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _log_to_stderr() -> None:
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s [worker %(process)d] %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _fresh_connection() -> None:
    """Drop a broken or expired database connection between rounds (never inside a transaction,
    e.g. a test's)."""
    if not connection.in_atomic_block:
        close_old_connections()


def run_worker(*, once: bool = False, poll: float = POLL_SECONDS, queue_poll: float = QUEUE_POLL_SECONDS,
               parent_pid: int | None = None, stop: threading.Event | None = None) -> int:
    """Loop until stopped: run due jobs every `poll` seconds and queued runs every `queue_poll` seconds.
    `once`: one round, then return the number of runs. With `parent_pid`, stop when that process is
    gone (the serve command died)."""
    _log_to_stderr()
    stop = stop or threading.Event()
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        _default_signals_in_forked_children()
        handler = stop_handler(stop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)
    try:
        return _loop(stop=stop, once=once, poll=poll, queue_poll=min(queue_poll, poll), parent_pid=parent_pid)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


_RESET_IN_CHILDREN = False


def _default_signals_in_forked_children() -> None:
    """A process the worker forks (a job's worker pool) starts with the default SIGTERM/SIGINT, so
    Pool.terminate() ends it at once: a Python-level handler could miss a signal that arrives just
    before the child blocks on a lock, and the stop handler only sets an event."""
    global _RESET_IN_CHILDREN
    if _RESET_IN_CHILDREN:
        return

    def reset() -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # not the main thread of the child
                signal.signal(sig, signal.SIG_DFL)

    os.register_at_fork(after_in_child=reset)
    _RESET_IN_CHILDREN = True


def stop_handler(stop: threading.Event):
    """SIGTERM/SIGINT stop the loop after the running job. A process forked by a job (the dedupe scan's
    and the import's worker pools) inherits the handler: there the signal must end the process as it
    would without it, or `Pool.terminate()` waits forever for a worker that only set an event."""
    owner = os.getpid()

    def handle(signum, frame) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        stop.set()

    return handle


def _loop(*, stop: threading.Event, once: bool, poll: float, queue_poll: float, parent_pid: int | None) -> int:
    logger.info("worker started (pid %d)", os.getpid())
    total = 0
    next_due = 0.0
    while not stop.is_set():
        _fresh_connection()
        try:
            if time.monotonic() >= next_due:
                next_due = time.monotonic() + poll
                total += len(run_due_jobs(timezone.now(), stop=stop))
            else:
                total += len(run_queued_jobs(stop=stop))
        except Exception:  # e.g. the database is away for a moment: try again next round
            logger.exception("worker round failed")
        _fresh_connection()
        if once:
            break
        if parent_pid is not None and os.getppid() != parent_pid:
            logger.warning("the serve process %d is gone", parent_pid)
            break
        stop.wait(queue_poll)
    if threading.current_thread() is not threading.main_thread():
        connections.close_all()  # a thread's connections outlive it otherwise
    logger.info("worker stopped")
    return total
