#!/usr/bin/env bash
# kill -9 of an exactly-once file source worker, repeated (default 50 rounds): every line must reach a
# read_committed consumer exactly once. See packages/connect/scripts/eosKill.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
exec node --conditions=@eddy/source --import tsx packages/connect/scripts/eosKill.ts "${1:-50}"
