#!/bin/sh
# Holds the non-reading Fetch client of packages/core/test/broker/ConnectionMemory.test.ts for 30 s
# (CI holds it 3 s): the broker's memory must stay under its budget and another client must be answered.
set -e
cd "$(dirname "$0")/.."
EDDY_HOLD_MS="${EDDY_HOLD_MS:-30000}" exec npx vitest run packages/core/test/broker/ConnectionMemory.test.ts
