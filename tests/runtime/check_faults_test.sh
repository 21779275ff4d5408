#!/usr/bin/env bash
# `cluster-kv check --start 3 --faults kill,pause`: the check starts its own 3-node cluster
# on loopback, kills (and restarts) and pauses its nodes while the workload runs, and the
# guarantees still hold: exit 0, faults reported and shaded on the timeline, the test
# cluster's processes and directory gone afterwards. `--faults partition` runs the nodes
# in network namespaces and cuts their LAN in two (needs root: the test fails without it).
# Bad fault flags are usage errors.
# Usage: check_faults_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

out=$("$bin" check --start 3 --start-port 19620 --faults kill,pause --fault-every 2s \
  --duration 7s --quiet 2s --timeline "$work/faults.html" 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
expect "the check passes under kills and pauses" "0" "$rc"
faults=$(grep -c '^cluster-kv check: \(crash\|pause\) of node' <<<"$out")
[ "$faults" -ge 2 ] && pass "$faults faults were inflicted" || fail "faults: $faults"
grep -q "no violation" <<<"$out" && pass "no violation" || fail "check said: $out"
grep -q '<rect class="fault \(crash\|pause\)"' "$work/faults.html" \
  && pass "the timeline shades the faults" || fail "no fault on the timeline"
dir=$(sed -n 's/^cluster-kv check: started 3 nodes in \(.*\)$/\1/p' <<<"$out")
[ -n "$dir" ] && [ ! -e "$dir" ] && pass "its test cluster's directory is gone" || fail "directory: '$dir'"
if pgrep -f -- "--http 127.0.0.1:1962[0-2]" >/dev/null; then fail "a test cluster node still runs"
else pass "no test cluster node left running"; fi

echo "# partitions: the nodes in network namespaces, the LAN cut in two and healed"
if [ "$(id -u)" -ne 0 ]; then
  fail "partitions need root (network namespaces): run this test as root"
elif ! command -v ip >/dev/null; then
  fail "partitions need iproute2's ip (tools/setup.sh installs it)"
else
  out=$("$bin" check --start 3 --start-port 19620 --faults partition --fault-every 1s \
    --duration 11s --quiet 3s --timeline "$work/partition.html" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/    /'
  expect "the check passes across partitions" "0" "$rc"
  cuts=$(grep -c '^cluster-kv check: partition of nodes [0-9,]* from [0-9,]* from' <<<"$out")
  [ "$cuts" -ge 2 ] && pass "$cuts partitions were made and healed" || fail "partitions: $cuts"
  grep -q '<rect class="fault partition' "$work/partition.html" \
    && pass "the timeline shades the partitions" || fail "no partition on the timeline"
  if ip netns list | grep -q '^ckvcheck'; then fail "a namespace of the check is left: $(ip netns list)"
  else pass "its namespaces are gone"; fi
  no_check_links() { ! ip -o link show | grep -q ': ckc[0-9]*h[0-9]*@'; }  # (deleted asynchronously)
  wait_for 5 "its links to the nodes are gone" no_check_links
  if pgrep -f -- "--gossip 10.215.0" >/dev/null; then fail "a partitioned node still runs"
  else pass "no partitioned node left running"; fi
fi

out=$("$bin" check --node 127.0.0.1:19620 --faults kill 2>&1); rc=$?
expect "--faults against a cluster it did not start is bad usage" "2" "$rc"
out=$("$bin" check --start 3 --faults flood 2>&1); rc=$?
expect "an unknown fault is bad usage" "2" "$rc"
out=$("$bin" check --start 1 --faults partition 2>&1); rc=$?
expect "a partition of one node is bad usage" "2" "$rc"
finish
