#!/usr/bin/env bash
# The main job: installs what is missing, builds, and starts a local 3-node cluster you can
# curl (HTTP on 127.0.0.1:9876, :9877, :9878). As root it also starts dbus and an
# avahi-daemon restricted to loopback, so the nodes find each other by mDNS; otherwise the
# second and third nodes are told to --join the first. Data lives in ./cluster-kv-data/;
# gossip between the nodes is encrypted with a key made on the first run (.run/keyring).
# Ctrl-C (or `tools/run.sh stop` from another terminal) stops every process it started.
#   tools/run.sh              start the cluster and wait
#   tools/run.sh stop         stop a cluster started by tools/run.sh
#   tools/run.sh sim [seed]   run the deterministic simulator instead (10 nodes, faults)
set -euo pipefail
cd "$(dirname "$0")/.."
state=.run

source tools/cluster_lib.sh

stop_all() {
  local pids=() f
  for f in "$state"/node*.pid; do
    [ -f "$f" ] && pids+=("$(cat "$f")")
  done
  ckv_stop "${pids[@]}"
  rm -f "$state"/node*.pid
  tools/avahi_loopback.sh stop "$state" || true
}

case "${1:-}" in
  stop)
    stop_all
    echo "stopped"
    exit 0
    ;;
  sim)
    seed=${2:-$(($(date +%s) % 100000))}
    tools/setup.sh
    tools/build.sh release
    exec build/release/tools/cluster-kv-sim --nodes 10 --seed "$seed" --faults swarm
    ;;
  "") ;;
  *)
    echo "usage: tools/run.sh [stop | sim [seed]]" >&2
    exit 2
    ;;
esac

tools/setup.sh
tools/build.sh release
mkdir -p "$state"
if ls "$state"/node*.pid >/dev/null 2>&1; then
  echo "run: a cluster started by tools/run.sh may still be running; stopping it first"
  stop_all
fi

join=()
if tools/avahi_loopback.sh start "$state"; then
  echo "run: nodes will find each other by mDNS"
else
  echo "run: no mDNS here; nodes 2 and 3 join node 1 with --join"
  join=(--join 127.0.0.1:7946)
fi
trap 'echo; echo "run: stopping"; stop_all; exit 0' INT TERM
# One cluster key, made once and kept with the run's state, readable by its owner only.
if [ ! -s "$state/keyring" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 > "$state/keyring")
fi

for i in 1 2 3; do
  args=(--keyring-file "$state/keyring")
  [ "$i" -gt 1 ] && args+=("${join[@]}")
  : > "$state/node$i.log"
  ckv_start build/release/runtime/cluster-kv "node$i" $((9875 + i)) $((7945 + i)) \
    "$state/node$i.log" "${args[@]}"
  echo "$ckv_pid" > "$state/node$i.pid"
done

if ! ckv_wait_formed 9878 3 15; then
  echo "run: the cluster did not form within 15 s; logs:" >&2
  tail -n 20 "$state"/node*.log >&2
  stop_all
  exit 1
fi

cat <<'TEXT'

cluster-kv: 3 nodes running (HTTP 127.0.0.1:9876, :9877, :9878; logs in .run/node*.log)

Try:
  curl -v http://localhost:9876/foo              # 404 Not Found
  curl -v http://localhost:9876/foo -d bar       # 200 OK
  curl -v http://localhost:9877/foo -d baz       # 200 OK
  curl http://localhost:9876/foo                 # baz
  curl http://localhost:9877/foo                 # baz
  curl -X DELETE http://localhost:9876/foo       # 200 OK, then 404 everywhere
  curl http://localhost:9876/_cluster/members    # who is in the cluster
  curl http://localhost:9876/_cluster/metrics    # Prometheus metrics

Data is kept in ./cluster-kv-data/ across runs (remove it for a fresh start). Gossip
between the nodes is encrypted with the key in .run/keyring (README: Security).
Ctrl-C (or tools/run.sh stop) stops the cluster.
TEXT
while :; do
  alive=0
  for f in "$state"/node*.pid; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
  done
  [ "$alive" -eq 1 ] || { echo "run: all nodes stopped"; stop_all; exit 0; }
  sleep 1
done
