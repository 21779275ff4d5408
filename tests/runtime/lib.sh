# Helpers for the tests that run real cluster-kv processes on loopback. Source it after
# setting `bin` (the cluster-kv binary). Every node a test starts is killed on exit, and
# its scratch directory removed; `fail` records a failure and the script goes on, so one
# run reports every broken check; `finish` exits non-zero if any failed.
set -u

work=$(mktemp -d /tmp/ckv-test.XXXXXX)
declare -A node_pid=()
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/cluster_lib.sh"
stop_all_nodes() {  # graceful, then forceful after 5 s
  ckv_stop "${node_pid[@]}"
  node_pid=()
}
trap 'stop_all_nodes; rm -rf "$work"' EXIT

need() {  # need COMMAND...: fail loudly when a tool the test uses is missing
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { echo "MISSING: this test needs '$c' (tools/setup.sh installs it)"; exit 1; }
  done
}
need curl cmp head

pass() { echo "ok      $*"; }
fail() { echo "FAILED  $*"; failures=$((failures + 1)); }
finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    for f in "$work"/*.log; do echo "--- $f (last 30 lines)"; tail -n 30 "$f"; done
    exit 1
  fi
  echo "all checks passed"
}

# start_node NAME HTTP_PORT GOSSIP_PORT [flags...]: data in $work/NAME, log in $work/NAME.log
start_node() {
  local name=$1 http=$2 gossip=$3
  shift 3
  ckv_start "$bin" "$name" "$http" "$gossip" "$work/$name.log" \
    --data-dir "$work/$name" --log-level debug "$@"
  node_pid[$name]=$ckv_pid
}

stop_node() {  # stop_node NAME [SIGNAL]: waits for the process to end
  local name=$1
  ckv_signal_and_wait "${node_pid[$name]}" "${2:-TERM}"
  local rc=$?
  unset "node_pid[$name]"
  return $rc
}

# http METHOD PORT PATH [curl args...]: prints "STATUS BODY"; times out after 10 s
http() {
  local method=$1 port=$2 path=$3
  shift 3
  curl -s -m 10 -X "$method" -o "$work/body" -w '%{http_code}' "$@" "http://127.0.0.1:$port$path"
  printf ' '
  cat "$work/body" 2>/dev/null
}

# status METHOD PORT PATH [curl args...]: prints only the HTTP status
status() {
  local method=$1 port=$2 path=$3
  shift 3
  curl -s -m 10 -X "$method" -o /dev/null -w '%{http_code}' "$@" "http://127.0.0.1:$port$path"
}

# expect DESCRIPTION WANT GOT
expect() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: want '$2', got '$3'"; fi
}

# members_in PORT STATE: how many members the node at PORT sees in STATE
members_in() {
  ckv_members_in "$@"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.1 s until COMMAND succeeds;
# prints the time it took
wait_for() {
  local limit=$1 what=$2
  shift 2
  local start=$(date +%s%N)
  while ! "$@" >/dev/null 2>&1; do
    if [ $(( ($(date +%s%N) - start) / 1000000 )) -gt $((limit * 1000)) ]; then
      fail "$what (not within ${limit}s)"
      return 1
    fi
    sleep 0.1
  done
  local took=$(( ($(date +%s%N) - start) / 1000000 ))
  pass "$what (${took} ms)"
}

sees() { [ "$(members_in "$1" "$2")" -eq "$3" ]; }  # sees PORT STATE COUNT
