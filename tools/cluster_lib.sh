# cluster_lib.sh: start cluster-kv nodes on loopback, wait until they see each other, and
# stop them. Sourced (not run) by tools/run.sh, tools/http_bench.sh, tools/memory_bench.sh
# and tests/runtime/lib.sh, so there is one way to do it. Needs curl.

# ckv_start BIN NAME HTTP_PORT GOSSIP_PORT LOG [flags...]: starts one node in the
# background, its output appended to LOG; its pid is left in $ckv_pid.
ckv_start() {
  local bin=$1 name=$2 http=$3 gossip=$4 log=$5
  shift 5
  "$bin" --node-name "$name" --http "127.0.0.1:$http" --gossip "127.0.0.1:$gossip" "$@" \
    >>"$log" 2>&1 &
  ckv_pid=$!
}

# ckv_members_in PORT STATE: how many members the node at PORT sees in STATE (0 when it
# does not answer).
ckv_members_in() {
  local n
  n=$(curl -s -m 5 "http://127.0.0.1:$1/_cluster/members" | grep -o "\"state\":\"$2\"" | wc -l) || true
  echo "${n:-0}"
}

# ckv_wait_formed PORT COUNT SECONDS: waits until the node at PORT sees COUNT members
# alive (itself included); false after SECONDS.
ckv_wait_formed() {
  local port=$1 count=$2 tries=$(($3 * 10))
  for _ in $(seq "$tries"); do
    [ "$(ckv_members_in "$port" alive)" -eq "$count" ] && return 0
    sleep 0.1
  done
  return 1
}

# ckv_wait_healthy PORT SECONDS: waits until the node at PORT answers /_cluster/health.
ckv_wait_healthy() {
  for _ in $(seq $(($2 * 10))); do
    curl -sf -m 1 -o /dev/null "http://127.0.0.1:$1/_cluster/health" && return 0
    sleep 0.1
  done
  return 1
}

# ckv_signal_and_wait PID [SIGNAL]: signals one node (SIGTERM by default) and waits for
# it to end; returns its exit status (the node must be a child of this shell).
ckv_signal_and_wait() {
  kill -s "${2:-TERM}" "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# ckv_stop PID...: asks each node to leave (SIGTERM), waits up to 5 s for each, then
# kills what is left.
ckv_stop() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

# ckv_write_keys PORT WANT WORKDIR: POSTs distinct keys "/w<round>-<thread>-<n>" with
# 100-byte values to the node at PORT with wrk (bench/http/walk.lua), in rounds of 5 s,
# until at least WANT are written; every write must answer 200. Sets ckv_written and
# ckv_rounds; wrk's output goes to WORKDIR/wrk.out. Returns 1 (saying why) on failure.
ckv_write_keys() {
  local port=$1 want=$2 dir=$3 n bad
  ckv_written=0
  ckv_rounds=0
  while [ "$ckv_written" -lt "$want" ]; do
    ckv_rounds=$((ckv_rounds + 1))
    WRK_PREFIX="w$ckv_rounds-" WRK_METHOD=POST WRK_EXPECT=200 \
      wrk -t2 -c50 -d5s -s bench/http/walk.lua "http://127.0.0.1:$port" > "$dir/wrk.out"
    n=$(awk '/requests in/ { print $1 }' "$dir/wrk.out")
    [ "${n:-0}" -gt 0 ] || { echo "no write got through" >&2; return 1; }
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$dir/wrk.out")
    [ "${bad:-0}" -eq 0 ] || { echo "$bad writes failed" >&2; return 1; }
    ckv_written=$((ckv_written + n))
    echo "  written $ckv_written keys" >&2
  done
}
