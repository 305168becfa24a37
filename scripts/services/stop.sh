#!/usr/bin/env bash
# Stop the services started by start.sh.
set -euo pipefail
if [ -f var/services.pid ]; then
  kill "$(cat var/services.pid)" 2>/dev/null || true
  rm -f var/services.pid
  echo "services stopped"
fi
