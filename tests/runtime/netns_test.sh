#!/usr/bin/env bash
# cluster-kv on a real (virtual) LAN: four hosts, each a network namespace with its own
# D-Bus and avahi-daemon, joined by a bridge (netns_lib.sh builds it). Checks:
#   a. the four nodes find each other by mDNS alone (no --join);
#   b. a host cut off the bridge is seen dead by both sides; both sides take writes (one key
#      on both, other keys on one side); after the link heals every node converges on the
#      highest version of every key;
#   c. kill -9 of a --sync node during a write load loses no acknowledged write;
#   d. a node with another cluster key (--encrypt-key) is never admitted, its traffic is
#      counted as rejected, and the cluster keeps serving.
# Needs root, iproute2, util-linux, dbus, avahi-daemon and curl; fails (never skips) without
# them. Removes every namespace, process and file it made, also on failure, and cleans up
# after an earlier run that was killed. Usage: netns_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.sh"
net_require
trap net_teardown EXIT
net_cleanup

hosts="1 2 3 4"
port=9876    # every cluster node: HTTP 127.0.0.1:9876 and gossip 10.213.0.N:7946 on host N
gossip=7946
start_cluster_node() {  # start_cluster_node N: the cluster node of host N, named nN
  local flags=(--cluster netns-test)
  [ "$1" = 3 ] && flags+=(--sync)  # the node check c kills
  flags+=(--encrypt-key "$cluster_key")
  start_host_node "$1" "n$1" $port $gossip "${flags[@]}"
}
sees_on() { [ "$(members_on "$1" $port "$2")" -eq "$3" ]; }  # sees_on N STATE COUNT
all_see() {                                                  # all_see STATE COUNT HOSTS...
  local state=$1 count=$2 n
  shift 2
  for n in "$@"; do sees_on "$n" "$state" "$count" || return 1; done
}

# The cluster's gossip is encrypted with a key of this run's own.
cluster_key=$(head -c 32 /dev/urandom | base64)

echo "# a LAN of four hosts, each with its own dbus and avahi-daemon"
net_up 4 || { echo "FAILED: could not build the network namespaces, bridge and veth links"; exit 1; }
for n in $hosts; do services_up "$n"; done
for n in $hosts; do
  wait_for 10 "avahi-daemon runs on host $n" avahi_running "$n" ||
    { tail -n 20 "$work/h$n/dbus.out" "$work/h$n/avahi.out"; exit 1; }
done

echo "# a. discovery by mDNS across hosts, no --join"
start=$(date +%s%N)
for n in $hosts; do start_cluster_node "$n"; done
if ! wait_for 20 "every node sees all four alive" all_see alive 4 $hosts; then
  for n in $hosts; do echo "  n$n sees $(members_on "$n" $port alive) alive"; done
  fail "no cluster, so nothing else can be checked"
  finish
fi
formed=$(ms_since "$start")
echo "  cluster formed $formed ms after the nodes started"
found_all() {  # every node's log names the three others as found by mDNS
  local n
  for n in $hosts; do [ "$(grep -c "mDNS: found node" "$work/n$n.log")" -ge 3 ] || return 1; done
}
wait_for 10 "every node resolved the three others by mDNS" found_all
healthy() { [ "$(hcurl "$1" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/_cluster/health")" = 200 ]; }
for n in $hosts; do healthy "$n" $port && pass "n$n reports health ok" || fail "n$n health is not ok"; done

echo "# b. partition: host 4 cut off the bridge, writes on both sides, heal, converge"
declare -A want_value=() want_version=()
write() {  # write N KEY VALUE: a write that must be acknowledged; the newest wins per key
  local got version
  got=$(hkv "$1" $port POST "$2" -d "$3")
  [ "${got%% *}" = 200 ] || { fail "POST $2=$3 on n$1: got '$got'"; return; }
  pass "POST $2=$3 on n$1"
  version=$(echo "$got" | cut -d' ' -f2)
  if [ -z "${want_version[$2]:-}" ] || version_newer "$version" "${want_version[$2]}"; then
    want_version[$2]=$version
    want_value[$2]=$3
  fi
}
write 1 before old
link_down 4
cut=$(date +%s%N)
wait_for 30 "n1, n2, n3 see n4 dead" all_see dead 1 1 2 3
seen_majority=$(ms_since "$cut")
echo "  the majority saw the cut $seen_majority ms after it"
wait_for 60 "n4 sees n1, n2, n3 dead" sees_on 4 dead 3
seen_isolated=$(ms_since "$cut")
echo "  the isolated host saw the cut $seen_isolated ms after it"
# split-a: the majority writes last; split-b: the isolated host writes last.
write 4 split-a isolated-a
write 1 split-a majority-a
write 1 split-b majority-b
write 4 split-b isolated-b
write 2 only-majority m
write 4 only-isolated i
write 4 before new-on-isolated
expect "the isolated side serves its own write" "200 ${want_version[only-isolated]} i" \
  "$(hkv 4 $port GET only-isolated)"
link_up 4
healed=$(date +%s%N)
wait_for 40 "all four see each other alive again" all_see alive 4 $hosts
merged=$(ms_since "$healed")
echo "  membership merged $merged ms after the link came back"
# Right after the merge: every node returns the newest version of every key (ETag = version).
converged() {
  local n key got bad=0
  for n in $hosts; do
    for key in "${!want_value[@]}"; do
      got=$(hkv "$n" $port GET "$key")
      if [ "$got" != "200 ${want_version[$key]} ${want_value[$key]}" ]; then
        echo "  n$n GET $key: got '$got', want '200 ${want_version[$key]} ${want_value[$key]}'"
        bad=1
      fi
    done
  done
  return $bad
}
if converged; then
  pass "the first reads after the merge return the newest version everywhere"
else
  fail "stale or missing values right after the merge (above)"
  wait_for 15 "every node converges later" converged
fi
converged_ms=$(ms_since "$healed")
echo "  converged $converged_ms ms after the link came back"

echo "# c. kill -9 of n3 (--sync) during a write load: no acknowledged write is lost"
for stream in a b; do
  # One connection per stream, POSTs of distinct keys; stops at the first failed request.
  ip netns exec ckv-h3 curl -s -m 60 --fail-early -X POST -d acked -o /dev/null \
    -w '%{http_code} %{url_effective}\n' "http://127.0.0.1:$port/load-$stream-[1-100000]" \
    >"$work/load-$stream.out" 2>/dev/null &
  host_pid[load-$stream]=$!
done
acked() { cat "$work"/load-?.out 2>/dev/null | grep -c '^200 '; }
acked_at_least() { [ "$(acked)" -ge "$1" ]; }
wait_for 10 "the load gets 400 writes acknowledged" acked_at_least 400
stop_host_node n3 KILL
for stream in a b; do wait "${host_pid[load-$stream]}"; unset "host_pid[load-$stream]"; done
total=$(acked)
echo "  $total writes acknowledged before the kill"
for stream in a b; do
  tail -n 1 "$work/load-$stream.out" | grep -qv '^200 ' && pass "load $stream was cut by the kill" ||
    fail "load $stream ended without a failed request"
done
start_cluster_node 3
wait_for 15 "n3 restarts and sees all four alive" sees_on 3 alive 4
wait_for 10 "n1 sees n3 alive again" sees_on 1 alive 4
# One curl per reader reads every acknowledged key, printing "status bytes" for each.
sed -n 's|^200 http://127.0.0.1:[0-9]*/||p' "$work"/load-?.out |
  awk '{ printf "url = \"http://127.0.0.1:'$port'/%s\"\noutput = \"/dev/null\"\n", $0 }' >"$work/acked.curl"
for n in 3 1 2 4; do  # the restarted node first, then the others (remote reads)
  ok=$(hcurl "$n" -K "$work/acked.curl" -w '%{http_code} %{size_download}\n' | grep -c '^200 5$')
  expect "n$n reads all $total acknowledged writes" "$total" "$ok"
done

echo "# d. a node with another cluster key is rejected; the cluster keeps working"
rejected() {  # rejected N PORT: whether a metric named *rejected* is above 0 on that node
  hcurl "$1" -m 5 "http://127.0.0.1:$2/_cluster/metrics" |
    awk 'tolower($1) ~ /rejected/ { sum += $2 } END { exit !(sum > 0) }'
}
start_host_node 4 intruder 9877 7947 --cluster netns-test \
  --encrypt-key "$(head -c 32 /dev/urandom | base64)" --join "$net_prefix.1:$gossip"
wait_for 10 "n1 counts the intruder's messages as rejected" rejected 1 $port
wait_for 10 "the intruder counts the cluster's messages as rejected" rejected 4 9877
for where in "1 $port n1" "4 9877 intruder"; do
  set -- $where
  hcurl "$1" "http://127.0.0.1:$2/_cluster/metrics" | grep -i '^[a-z_]*rejected[^ ]* [1-9]' | sed "s/^/  $3: /"
done
grep -qi 'reject\|sealed\|decrypt\|authentic' "$work/n1.log" "$work/intruder.log" &&
  pass "the logs name the rejected traffic" || fail "no log line about rejected traffic"
expect "POST on n2 while the intruder knocks" 200 "$(hkv 2 $port POST after-intruder -d yes | cut -d' ' -f1)"
expect "GET on n4" yes "$(hkv 4 $port GET after-intruder | cut -d' ' -f3)"
for n in $hosts; do
  healthy "$n" $port && pass "n$n still reports health ok" ||
    fail "n$n health: $(hcurl "$n" -w ' %{http_code}' "http://127.0.0.1:$port/_cluster/health" | tr -d '\n')"
  hcurl "$n" "http://127.0.0.1:$port/_cluster/members" | grep -q intruder &&
    fail "n$n lists the intruder as a member" || pass "n$n does not list the intruder"
  expect "n$n still sees the four alive" 4 "$(members_on "$n" $port alive)"
done
expect "the intruder sees only itself" 1 "$(members_on 4 9877 alive)"

echo "timings: cluster formed ${formed:-?} ms; partition seen by the majority ${seen_majority:-?} ms," \
  "by the isolated host ${seen_isolated:-?} ms; after the heal merged ${merged:-?} ms," \
  "converged ${converged_ms:-?} ms; total $(( SECONDS )) s"
finish
