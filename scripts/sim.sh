#!/usr/bin/env bash
# Runs the seeded cluster simulation of issue 21 (packages/core/test/sim) for many seeds: three brokers, a
# metadata store, producers and consumers on a simulated network, disk and clock under random faults, every run
# checked by HistoryChecker and ReplicationChecker. One line per run (seed, commit, derived options, outcome),
# the full story of every failing run, a summary; exit code 1 when a run failed. No build needed.
# Usage: scripts/sim.sh [SEEDS] [FIRST_SEED]   (default 10000 seeds from 1)
#   replay one seed:            scripts/sim.sh 1 <seed>
#   every event of one seed:    SIM_TRACE=1 scripts/sim.sh 1 <seed>
#   the broken variant:         SIM_BROKEN=1 scripts/sim.sh 100
#   a named scenario:           SIM_SCENARIO="leader kill" scripts/sim.sh 50
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-10000}"
first="${2:-1}"
exec node --conditions=@eddy/source --import tsx packages/core/test/sim/main.ts "$seeds" "$first"
