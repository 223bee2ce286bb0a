"""Tests that need SQLite on a database file (threads queueing for the write lock, a process forked
beside the load): the default SQLite test database lives in memory, so such a module runs its tests
again in a subprocess against a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection


def in_memory_sqlite() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


def rerun_on_sqlite_file(test_file: str, database: Path, *, select: str, timeout: int) -> subprocess.CompletedProcess:
    """Run the tests of `test_file` chosen by `select` (pytest -k) in a subprocess whose SQLite test
    database is the file `database`; its output is in the result."""
    env = {**os.environ, "QIANKE_SQLITE_TEST_PATH": str(database), "QIANKE_DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "pytest", test_file, "-q", "-p", "no:cacheprovider", "-k", select],
        env=env, capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).resolve().parents[3])
