#!/usr/bin/env bash
# Run the whole suite: lint, then pytest on SQLite, then on PostgreSQL when a server is reachable.
# Exits non-zero when anything fails, including a run that collects no tests (pytest exit 5).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0

# Browser tests need Debian's chromium and a CJK font; install them when missing and we can.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "== installing chromium and fonts-wqy-microhei"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) >/tmp/qianke-apt.log 2>&1 \
      || { echo "apt-get failed, see /tmp/qianke-apt.log"; tail -5 /tmp/qianke-apt.log; }
  else
    echo "!! /usr/bin/chromium is missing and cannot be installed here (not root or no apt-get)"
  fi
fi

# PostgreSQL: use it when it runs on 127.0.0.1:5432; start it when it is installed but stopped.
pg_up() { "$BIN/python" - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 5432)) == 0 else 1)
PY
}
if [ -z "${QIANKE_TEST_DATABASE_URL:-}" ]; then
  if ! pg_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "== starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
  fi
  if pg_up; then
    export QIANKE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/qianke"
  fi
fi

echo "== ruff"
"$BIN/ruff" check qianke bench || status=1

TEST_HOME="$(mktemp -d)"
export QIANKE_HOME="$TEST_HOME"

run_pytest() {
  local label="$1"; shift
  echo "== pytest on $label"
  "$BIN/python" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "!! pytest on $label collected no tests"; fi
  [ $rc -ne 0 ] && status=1
  return 0
}

QIANKE_DATABASE_URL= run_pytest "SQLite" "$@"
if [ -n "${QIANKE_TEST_DATABASE_URL:-}" ]; then
  QIANKE_DATABASE_URL="$QIANKE_TEST_DATABASE_URL" run_pytest "PostgreSQL ($QIANKE_TEST_DATABASE_URL)" "$@"
else
  echo "!! PostgreSQL not reachable: suite ran on SQLite only"
fi
rm -rf "$TEST_HOME"
exit $status
