#!/usr/bin/env bash
# A new user's first minute, on real nodes (issue 16): three nodes started together, the
# second and third told to --join the first. As soon as the first lists three alive
# members (what a user checks), a key is written on the first; at once three clients, one
# per node, each read the key and write back the number they read plus one, ten times
# over. The key is never deleted, so every read must answer 200: a 404 is a wrong answer
# (issue 16: a node that had not yet heard of the writer of the newest version said
# nobody held it). Each round uses a new cluster. Before the fix a client with keep-alive
# connections saw it in 3 of 100 fresh clusters; this one, a curl per request and so
# slower, saw it in none of 30: it checks the whole stack on fresh clusters, and the
# simulator's fresh-cluster property (tests/sim/kv_properties_test.cpp) is what catches
# that bug, within a dozen cases.
# Usage: fresh_cluster_test.sh path/to/cluster-kv [clusters (default 10)]
bin=$1
clusters=${2:-10}
. "$(dirname "$0")/lib.sh"

http_ports=(21876 21877 21878)
gossip_ports=(25946 25947 25948)

# client PORT OUT: ten read-modify-write loops on the node at PORT; every answer other
# than 200 to a read is written to OUT as "GET <status> <headers>".
client() {
  local port=$1 out=$2 body=$work/body.$1 n status
  for _ in $(seq 10); do
    status=$(curl -s -m 10 -D "$body.h" -o "$body" -w '%{http_code}' "http://127.0.0.1:$port/k")
    if [ "$status" != 200 ]; then
      echo "GET $status $(tr -d '\r' <"$body.h" | grep -i '^x-cluster' | tr '\n' ' ')" >>"$out"
      continue
    fi
    n=$(cat "$body")
    status=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary "$((n + 1))" \
      "http://127.0.0.1:$port/k")
    [ "$status" == 200 ] || echo "PUT $status" >>"$out"
  done
}

# poll SECONDS COMMAND...: runs COMMAND until it succeeds, without pausing; false after
# SECONDS.
poll() {
  local until=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$until" ] || return 1
  done
}

wrong=0
for c in $(seq "$clusters"); do
  start_node "c${c}n1" "${http_ports[0]}" "${gossip_ports[0]}" --no-mdns
  for i in 1 2; do
    start_node "c${c}n$((i + 1))" "${http_ports[$i]}" "${gossip_ports[$i]}" --no-mdns \
      --join "127.0.0.1:${gossip_ports[0]}"
  done
  # As a user would, and as soon as possible: no sleeping between polls.
  if ! poll 15 sees "${http_ports[0]}" alive 3 ||
    [ "$(status PUT "${http_ports[0]}" /k --data-binary 0)" != 200 ]; then
    fail "cluster $c did not form or take the first write"
    stop_all_nodes
    continue
  fi
  out=$work/answers.$c
  : >"$out"
  clients=()
  for port in "${http_ports[@]}"; do
    client "$port" "$out" &
    clients+=($!)
  done
  wait "${clients[@]}"
  if [ -s "$out" ]; then
    wrong=$((wrong + 1))
    fail "cluster $c: $(sort "$out" | uniq -c | tr '\n' ';')"
  fi
  stop_all_nodes
done
expect "fresh clusters in which every read found the key" "$clusters" "$((clusters - wrong))"
finish
