#!/usr/bin/env bash
# `cluster-kv check --start 3 --faults kill,pause`: the check starts its own 3-node cluster
# on loopback, kills (and restarts) and pauses its nodes while the workload runs, and the
# guarantees still hold: exit 0, faults reported and shaded on the timeline, the test
# cluster's processes and directory gone afterwards. Bad fault flags are usage errors.
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

out=$("$bin" check --node 127.0.0.1:19620 --faults kill 2>&1); rc=$?
expect "--faults against a cluster it did not start is bad usage" "2" "$rc"
out=$("$bin" check --start 3 --faults partition 2>&1); rc=$?
expect "an unknown fault is bad usage" "2" "$rc"
finish
