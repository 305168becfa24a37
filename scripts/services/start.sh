#!/usr/bin/env bash
# Start Redis (127.0.0.1:6379) and FerretDB (127.0.0.1:27017, telemetry off) under var/,
# in the background; a port that already answers is reused. Idempotent.
set -euo pipefail
PY=${1:-.venv/bin/python}
mkdir -p var
if [ -f var/services.pid ] && kill -0 "$(cat var/services.pid)" 2>/dev/null; then
  echo "services already running (pid $(cat var/services.pid))"; exit 0
fi
# core.services runs both processes with --telemetry=disable for FerretDB and stops them on exit.
setsid nohup "$PY" -m core.services --var var >var/services.log 2>&1 &
echo $! > var/services.pid
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/27017) 2>/dev/null; then
    echo "services up: redis://127.0.0.1:6379/0 mongodb://127.0.0.1:27017/ (logs in var/)"; exit 0
  fi
  sleep 0.2
done
echo "services did not come up; see var/services.log" >&2; cat var/services.log >&2; exit 1
