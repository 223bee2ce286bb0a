"""Kill-and-resume: a real `qianke import` process is killed with SIGKILL half-way, then run again."""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROWS = 12_000
BATCH = 500


def _env(home: Path, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QIANKE_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(QIANKE_HOME=str(home), LANG="C.UTF-8")
    if database_url:
        env["QIANKE_DATABASE_URL"] = database_url
    return env


class _Database:
    """A database of its own for the subprocesses: a SQLite file, or a fresh PostgreSQL database when
    the suite runs on PostgreSQL."""

    def __init__(self, home: Path) -> None:
        base = os.environ.get("QIANKE_DATABASE_URL", "")
        self.home = home
        self.pg_name = None
        self.url = ""
        if base:
            import psycopg

            self.pg_name = f"qianke_dataio_kill_{os.getpid()}"
            self.admin_url = base.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.url = base.rsplit("/", 1)[0] + "/" + self.pg_name

    def query(self, sql: str):
        if self.pg_name:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(sql).fetchone()
        with sqlite3.connect(self.home / "qianke.sqlite3", timeout=20) as db:
            return db.execute(sql).fetchone()

    def drop(self) -> None:
        if self.pg_name:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


@pytest.fixture
def database(tmp_path):
    db = _Database(tmp_path)
    env = _env(tmp_path, db.url)
    subprocess.run([str(BIN / "qianke"), "init", "--admin-password", "Kill-and-resume-2026"], env=env, check=True,
                   capture_output=True, timeout=300)
    yield db, env
    db.drop()


def _file(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["客户名称", "手机", "联系人", "跟进日期", "跟进内容"])
        for i in range(ROWS):
            # Every 1000th row is invalid, so the partial run also has rejections to keep exactly once.
            mobile = "123" if i % 1000 == 999 else f"139{i:08d}"
            writer.writerow([f"断点续传测试{i}有限公司", mobile, f"联系人{i}", "2026-10-01", "电话沟通"])
    return path


def _kill_when(process: subprocess.Popen, ready, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the import finished before it could be killed: " + process.stderr.read().decode()[-2000:])
        try:
            if ready():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return
        except (sqlite3.Error, OSError):
            pass
        time.sleep(0.05)
    process.kill()
    pytest.fail("the first batch never committed")


def test_partial_import_killed_half_way_resumes_without_duplicates(database, tmp_path):
    db, env = database
    path = _file(tmp_path / "big.csv")
    cmd = [str(BIN / "qianke"), "import", str(path), "--batch-size", str(BATCH), "--mode", "partial"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def first_batches_committed() -> bool:
        row = db.query("SELECT checkpoint FROM dataio_importjob")
        return bool(row and row[0] >= 2 * BATCH)

    _kill_when(process, first_batches_committed)
    customers, checkpoint, ledger = (db.query("SELECT count(*) FROM customers_customer")[0],
                                     db.query("SELECT checkpoint FROM dataio_importjob")[0],
                                     db.query("SELECT count(*) FROM dataio_importedrow")[0])
    assert 0 < customers < ROWS - ROWS // 1000
    # Whole batches only: the ledger, the customers and the checkpoint agree.
    assert customers == ledger
    assert db.query("SELECT count(*) FROM customers_contact")[0] == customers
    assert db.query("SELECT count(*) FROM activities_activity")[0] == customers
    assert checkpoint % BATCH == 1  # the header is row 1

    done = subprocess.run(cmd, env=env, capture_output=True, timeout=600)
    assert done.returncode == 1, done.stderr.decode()[-2000:]  # the invalid rows were rejected
    assert "Continuing import #1" in done.stderr.decode()
    valid = ROWS - ROWS // 1000
    assert db.query("SELECT count(*) FROM customers_customer")[0] == valid
    assert db.query("SELECT count(DISTINCT name) FROM customers_customer")[0] == valid
    assert db.query("SELECT count(*) FROM customers_contact")[0] == valid
    assert db.query("SELECT count(*) FROM customers_customersearch")[0] == valid
    assert db.query("SELECT count(*) FROM dataio_importrejection")[0] == ROWS // 1000
    assert db.query("SELECT status, read_rows, created_customers, rejected_rows FROM dataio_importjob") == (
        "done", ROWS, valid, ROWS // 1000)
    check = subprocess.run([str(BIN / "qianke"), "check"], env=env, capture_output=True, timeout=120)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def test_atomic_import_killed_half_way_leaves_nothing(database, tmp_path):
    db, env = database
    path = _file(tmp_path / "big.csv")
    cmd = [str(BIN / "qianke"), "import", str(path), "--batch-size", str(BATCH), "--mode", "atomic"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    progress = tmp_path / "imports" / "1.progress"

    def batches_written() -> bool:
        return progress.exists() and int(progress.read_text().split()[0]) >= 2 * BATCH

    _kill_when(process, batches_written)
    assert db.query("SELECT count(*) FROM customers_customer")[0] == 0
    assert db.query("SELECT count(*) FROM dataio_importedrow")[0] == 0
    assert db.query("SELECT count(*) FROM customers_customersearch")[0] == 0
