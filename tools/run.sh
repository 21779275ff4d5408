#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a simulated cluster — ten nodes
# under a fault profile drawn from the seed (loss, partitions, crashes, pauses, ...) and a
# client load of gets, puts and deletes, then a quiet phase in which every membership and
# key-value property is checked — and prints a summary with the read latencies.
# (When the cluster-kv node binary lands, this starts a real local cluster instead.)
#   tools/run.sh [seed] [nodes]
set -euo pipefail
cd "$(dirname "$0")/.."

seed=${1:-$(( $(date +%s) % 100000 ))}
nodes=${2:-10}

tools/setup.sh
tools/build.sh release
echo
exec build/release/tools/cluster-kv-sim --nodes "$nodes" --seed "$seed" --faults swarm
