#!/usr/bin/env bash
# The three-broker SIGKILL test (issue #21): etcd and three `eddy broker` processes, kafkajs, librdkafka and kcat
# producing with acks=all, leaders SIGKILLed in turn. Usage: scripts/cluster-kill.sh [rounds] (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
CLUSTER_KILL_ROUNDS="${1:-10}" npx vitest run packages/core/test/cluster/ClusterKill.test.ts
