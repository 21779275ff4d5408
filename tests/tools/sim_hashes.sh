#!/usr/bin/env bash
# Prints one line per seed (its verdict and trace hash) for a fixed set of simulator runs:
# 3, 7 and 12 nodes, 15 seeds each, swarm faults, workload drawn per seed. tools/test.sh
# runs it with the ASan and the Release build and compares the two outputs: the same
# seeds must give the same traces whatever the build (and with one job or two).
#   tests/tools/sim_hashes.sh CLUSTER_KV_SIM JOBS
set -euo pipefail
sim=$1
jobs=$2
for nodes in 3 7 12; do
  echo "nodes $nodes"
  if ! out=$("$sim" --nodes "$nodes" --seeds 15 --first-seed 500 --virtual-seconds 30 \
    --jobs "$jobs"); then
    echo "sim_hashes: $sim at $nodes nodes failed or found a violation:" >&2
    grep -A3 '^VIOLATION' <<< "$out" >&2 || tail -n 3 <<< "$out" >&2
    exit 1
  fi
  grep '^seed ' <<< "$out"
done
