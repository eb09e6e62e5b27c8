#!/usr/bin/env bash
# Runs the Postgres CDC kill -9 test (packages/connect/test/postgres/CdcKill.test.ts) for more rounds than CI's
# 10: the built `eddy connect standalone` worker is SIGKILLed mid-transaction ROUNDS times and the test checks
# that no committed change is lost or reordered and that the slot's confirmed_flush_lsn never passes what the
# broker acknowledged. Needs Postgres binaries (initdb, pg_ctl) and a build (npm run build).
# Usage: scripts/cdc-kill9.sh [ROUNDS]   (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-50}"
if [ ! -f packages/cli/dist/main.js ]; then npm run build; fi
CDC_KILL_ROUNDS="$rounds" npx vitest run packages/connect/test/postgres/CdcKill.test.ts
