#!/usr/bin/env bash
# The cluster-kv-sim command-line contract (see tools/sim_cli/main.cpp), checked from the
# outside as a script would use it.
set -u
sim=$1
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  if ! "$@"; then
    echo "FAILED: $what"
    fail=1
  fi
}
last_json() { tail -n 1 "$out"; }
has_keys() {
  local line
  line=$(last_json)
  for key in "$@"; do
    [[ $line == *"\"$key\":"* ]] || { echo "last line lacks \"$key\": $line"; return 1; }
  done
  [[ $line == \{*\} ]] || { echo "last line is not one JSON object: $line"; return 1; }
}
json_value() { last_json | sed -E "s/.*\"$1\":\"?([^,\"}]*)\"?.*/\1/"; }

# Many seeds: exit 0, one JSON summary line last.
"$sim" --nodes 6 --seeds 4 --first-seed 10 --faults swarm --virtual-seconds 30 > "$out"
check "multi-seed run exits 0" test $? -eq 0
check "multi-seed JSON keys" has_keys seeds nodes violations virtual_seconds wall_seconds
check "multi-seed counts seeds" test "$(json_value seeds)" = 4
check "multi-seed counts nodes" test "$(json_value nodes)" = 6
check "multi-seed reports no violation" test "$(json_value violations)" = 0

# --jobs: the same output on two threads as on one (wall time aside), faults counted.
"$sim" --nodes 5 --seeds 6 --first-seed 20 --virtual-seconds 20 | sed 's/"wall_seconds":[0-9.]*//' > "$out.one"
"$sim" --nodes 5 --seeds 6 --first-seed 20 --virtual-seconds 20 --jobs 2 | sed 's/"wall_seconds":[0-9.]*//' > "$out"
check "--jobs 2 prints what one job prints" cmp -s "$out.one" "$out"
check "the summary counts injected faults" grep -q '"faults_injected":{"partition":' "$out"
rm -f "$out.one"

# One seed: trace_hash, and the same seed gives the same hash; another seed another hash.
"$sim" --nodes 5 --seed 7 --virtual-seconds 30 > "$out"
check "single-seed run exits 0" test $? -eq 0
check "single-seed JSON keys" has_keys seeds nodes violations virtual_seconds wall_seconds trace_hash
first=$(json_value trace_hash)
"$sim" --nodes 5 --seed 7 --virtual-seconds 30 > "$out"
check "same seed, same trace hash" test "$(json_value trace_hash)" = "$first"
"$sim" --nodes 5 --seed 8 --virtual-seconds 30 > "$out"
check "other seed, other trace hash" test "$(json_value trace_hash)" != "$first"

# --trace prints the readable trace, and the JSON line stays last.
"$sim" --nodes 3 --seed 7 --virtual-seconds 5 --faults none --trace > "$out"
check "--trace prints deliveries" grep -q -- "-> n" "$out"
check "--trace prints member changes" grep -q " sees " "$out"
check "--trace keeps JSON last" has_keys trace_hash

# Usage errors exit 2, and still end standard output with one JSON object.
for bad in "--nodes 0" "--nodes x" "--faults some" "--bogus" "--seed 1 --seeds 2" "--seeds 2 --trace" "--jobs 0"; do
  # shellcheck disable=SC2086
  "$sim" $bad > "$out" 2>/dev/null
  check "'$bad' is a usage error" test $? -eq 2
  check "'$bad' ends with a JSON error" has_keys error exit_status
done

# A violation: a probe interval shorter than the network's round trip makes nodes accuse
# healthy peers on a clean network. Exit 1, a report with the seed, the property, the trace
# around it and a command that reproduces it exactly.
"$sim" --nodes 5 --seeds 10 --faults none --probe-interval-ms 2 --probe-timeout-ms 1 \
  --virtual-seconds 20 > "$out"
check "violating run exits 1" test $? -eq 1
check "violation JSON counts it" test "$(json_value violations)" -gt 0
check "report names the property" grep -q '^VIOLATION of "accuracy' "$out"
check "report shows trace records" grep -q -E '^    +[0-9]+\.[0-9]{6}  n[0-9]+' "$out"
repro=$(grep -m1 '  reproduce: ' "$out" | sed 's/^  reproduce: //')
seed=$(sed -n -E 's/^  seed ([0-9]+), .*/\1/p' "$out" | head -n 1)
check "report gives a reproduce command" test -n "$repro"
check "report gives the seed" test -n "$seed"
hash=$(sed -n -E "s/^seed $seed: VIOLATION .* hash ([0-9a-f]+)$/\1/p" "$out")
# shellcheck disable=SC2086
"${sim}" ${repro#cluster-kv-sim } > "$out"
check "reproduce command fails again" test $? -eq 1
check "reproduce command finds the same property" grep -q '^VIOLATION of "accuracy' "$out"
check "reproduce command replays the same trace" test "$(json_value trace_hash)" = "$hash"

if [ $fail -eq 0 ]; then echo "cluster-kv-sim contract: ok"; fi
exit $fail
