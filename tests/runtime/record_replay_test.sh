#!/usr/bin/env bash
# The flight recorder on a real 3-node cluster on loopback: each node records its kernel's
# inputs (two with values, one masked) while clients put, get, delete, list and write
# conditionally; after a graceful stop, `cluster-kv-sim --replay` replays every recording
# through a fresh kernel with every output matched, and all three as one cluster (each
# message between them matched to the replayed sender). A masked recording holds no value.
# `cluster-kv check` runs on the same cluster while it records, and passes; it fails on a
# planted bug (stale_node.py serves a stale copy after its own write) and on two nodes
# that never joined one cluster.
# A small --record-mb keeps the directory within its bound; a recording that lost its
# middle replays its start only, and says so (exit 2). `--fork-at` runs the recorded cluster on
# in the simulator, under its faults and checkers, with all three recordings or one (the
# others then down). Usage: record_replay_test.sh cluster-kv cluster-kv-sim
bin=$1
sim=$2
. "$(dirname "$0")/lib.sh"
need python3

rec=$work/rec
start_node a 19850 17850 --no-mdns --record "$rec/a" --record-values
start_node b 19851 17851 --no-mdns --join 127.0.0.1:17850 --record "$rec/b" --record-values
start_node c 19852 17852 --no-mdns --join 127.0.0.1:17850 --record "$rec/c"
for port in 19850 19851 19852; do
  wait_for 15 "node :$port sees 3 alive members" sees $port alive 3
done
grep -q "recording the kernel's inputs in $rec/c/run-.* (values masked)" "$work/c.log" \
  && pass "the log names the recording" || fail "no recording line in c.log"

for i in $(seq 1 40); do
  curl -s -m 5 -o /dev/null -X PUT "http://127.0.0.1:1985$((i % 3))/key$((i % 9))" -d "secret-value-$i"
  curl -s -m 5 -o /dev/null "http://127.0.0.1:1985$(((i + 1) % 3))/key$((i % 7))"
done
curl -s -m 5 -o /dev/null -X DELETE http://127.0.0.1:19851/key3
curl -s -m 5 -o /dev/null "http://127.0.0.1:19852/_cluster/keys?prefix=key&values=true"
expect "a conditional create" "200" "$(status PUT 19852 /cas -H 'If-None-Match: *' -d secret-value-cas)"
expect "a second one fails" "412" "$(status PUT 19850 /cas -H 'If-None-Match: *' -d secret-value-cas2)"
expect "a read after it all" "200 secret-value-cas" "$(http GET 19851 /cas)"

echo "# cluster-kv check on the recording cluster"
out=$("$bin" check --node 127.0.0.1:19850 --node 127.0.0.1:19851 --node http://127.0.0.1:19852 \
  --ops 600 --quiet 1s --history "$work/history.jsonl" --timeline "$work/check.html" 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
expect "check passes on a healthy cluster" "0" "$rc"
expect "its history has a line per operation" "600" "$(wc -l < "$work/history.jsonl")"
grep -q '"op":"put".*"etag":"\\"[0-9]*\.[0-9]*@[0-9a-f]\{16\}\\"".*"value_id":' "$work/history.jsonl" \
  && pass "history lines carry the ETag and the value's id" || fail "history: $(head -1 "$work/history.jsonl")"
grep -q "staleness p50" <<<"$out" && pass "staleness percentiles reported" || fail "no staleness"
[ "$(grep -c '<g class="lane"' "$work/check.html")" -eq 3 ] && [ "$(grep -c 'class="op ok"' "$work/check.html")" -gt 300 ] \
  && pass "check's timeline: a lane per node, its operations" || fail "check's timeline"

echo "# planted bugs: check must fail"
python3 "$(dirname "$0")/stale_node.py" 19854 &
stale_pid=$!
wait_for 5 "the stale node answers" curl -s -o /dev/null http://127.0.0.1:19854/x
out=$("$bin" check --node 127.0.0.1:19854 --ops 200 --quiet 0 --timeline "$work/stale.html" 2>&1)
rc=$?
kill $stale_pid
expect "check fails on a node that serves a stale copy after its own write" "1" "$rc"
grep -q "VIOLATION no resurrection\|VIOLATION no lost write\|VIOLATION no stale read" <<<"$out" \
  && pass "and names the property: $(grep -m1 -o 'VIOLATION [a-z ]*' <<<"$out")" || fail "check said: $out"
grep -q '<g class="pin">' "$work/stale.html" && grep -q '<pre class="repro">cluster-kv check --node 127.0.0.1:19854' "$work/stale.html" \
  && pass "its timeline pins the violations with the command" || fail "no pin in the stale node's timeline"
python3 "$(dirname "$0")/stale_node.py" 19854 --lost-answers &
stale_pid=$!
wait_for 5 "a node that stores some puts without answering them" curl -s -o /dev/null http://127.0.0.1:19854/x
out=$("$bin" check --node 127.0.0.1:19854 --ops 200 --quiet 0 --timeout 1s 2>&1)
rc=$?
kill $stale_pid
expect "unanswered puts: the history is incomplete (exit 3)" "3" "$rc"
if grep -q "VIOLATION" <<<"$out"; then fail "reading a stored but unanswered put is no violation: $(grep -m2 VIOLATION <<<"$out")"
else pass "reading a stored but unanswered put is no violation"; fi
start_node s 19855 17855 --no-mdns
wait_for 10 "a node that never joined answers" sees 19855 alive 1
out=$("$bin" check --node 127.0.0.1:19850 --node 127.0.0.1:19855 --ops 100 --quiet 1s 2>&1)
rc=$?
expect "check fails on two nodes that are not one cluster" "1" "$rc"
grep -q "VIOLATION convergence" <<<"$out" && pass "they never converge" || fail "check said: $out"
out=$("$bin" check --node 127.0.0.1:19850 --clients 2 2>&1); rc=$?
expect "more clients than nodes is bad usage" "2" "$rc"
stop_all_nodes

out=$("$sim" --replay "$rec/a" --replay "$rec/b" --replay "$rec/c" --timeline "$work/replay.html" 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
expect "the replay of all three exits 0" "0" "$rc"
[ "$(grep -c 'every output matched' <<<"$out")" -eq 3 ] \
  && pass "every output of each node matched" || fail "not every replay matched"
grep -q '"diverged":false' <<<"$out" && pass "the summary says no divergence" \
  || fail "summary: $(tail -1 <<<"$out")"
[ "$(grep -c '<g class="lane"' "$work/replay.html")" -eq 3 ] && grep -q 'class="state alive"' "$work/replay.html" \
  && grep -q 'class="op ok"' "$work/replay.html" && pass "the replay's timeline: three lanes, member states, replies" \
  || fail "the replay's timeline"
out=$("$sim" --replay "$rec/a" --replay "$rec/b" 2>&1)
links=$(sed -n 's/^\([0-9]*\) messages between the recorded nodes matched.*/\1/p' <<<"$out")
[ -n "$links" ] && [ "$links" -gt 50 ] && pass "$links messages between a and b matched their sender's replay" \
  || fail "links between a and b: $out"
if grep -rqa "secret-value" "$rec/c"; then fail "the masked recording holds a value"
else pass "the masked recording holds no value"; fi
grep -rqa "secret-value" "$rec/a" && pass "a recording with --record-values holds them" \
  || fail "no value in a's recording"
traced=$("$sim" --replay "$rec/b" --trace | grep -c ' <- ')
[ "$traced" -gt 100 ] && pass "--trace shows each input ($traced)" || fail "--trace: $traced lines"

echo "# a fork: the recorded cluster run on by the simulator from 2 s in"
out=$("$sim" --replay "$rec/a" --replay "$rec/b" --replay "$rec/c" --fork-at 2 --seeds 3 \
  --virtual-seconds 10 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
expect "the fork exits 0" "0" "$rc"
grep -q "^fork at 2.000 s of a 127.0.0.1:17850, b 127.0.0.1:17851, c 127.0.0.1:17852$" <<<"$out" \
  && pass "it adopts all three at their addresses" || fail "fork: $(head -1 <<<"$out")"
[ "$(grep -c '^seed [123]: .* operations, .*: no property violated$' <<<"$out")" -eq 3 ] \
  && pass "three seeds ran on with every checker on" || fail "not three clean seeds"
ops=$(sed -n 's/.*"operations":\([0-9]*\).*/\1/p' <<<"$out")
[ "${ops:-0}" -gt 300 ] && pass "$ops operations in the forks" || fail "operations: $ops"
out=$("$sim" --replay "$rec/c" --fork-at 2 --timeline "$work/fork.html" 2>&1)
rc=$?
expect "a fork of c alone (masked) exits 0" "0" "$rc"
grep -q "a 127.0.0.1:17850 (down: not recorded running)" <<<"$out" \
  && grep -q "b 127.0.0.1:17851 (down: not recorded running)" <<<"$out" \
  && pass "the members c knows with no recording are down" || fail "fork of c: $out"
[ "$(grep -c '<g class="lane"' "$work/fork.html")" -eq 3 ] && grep -q 'class="op ok"' "$work/fork.html" \
  && pass "the fork's timeline: three lanes, operations" || fail "the fork's timeline"
out=$("$sim" --replay "$rec/a" --fork-at 100000 2>&1); rc=$?
expect "a moment after every recording: exit 2" "2 ok" "$rc $(grep -q 'no recorded node was running' <<<"$out" && echo ok)"

echo "# the ring keeps within --record-mb"
start_node r 19853 17853 --no-mdns --record "$rec/r" --record-mb 8 --record-values
wait_for 10 "node r answers" sees 19853 alive 1
head -c 65536 /dev/urandom | base64 -w0 > "$work/big"
for i in $(seq 1 150); do
  curl -s -m 5 -o /dev/null -X PUT "http://127.0.0.1:19853/big$i" --data-binary @"$work/big"
done
stop_node r
bytes=$(du -sb "$rec/r" | cut -f1)
[ "$bytes" -le $((8 << 20)) ] && pass "the recording is $bytes bytes, within 8 MiB" \
  || fail "the recording is $bytes bytes, over 8 MiB"
out=$("$sim" --replay "$rec/r" 2>&1)
rc=$?
expect "a replay of a recording that lost its middle exits 2" "2" "$rc"
grep -q "dropped to keep the recording within --record-mb" <<<"$out" \
  && grep -q "cannot be replayed whole" <<<"$out" \
  && pass "and says why, after checking the start it kept" || fail "refusal: $out"

echo "# bad usage"
out=$("$bin" --record-values 2>&1); rc=$?
expect "--record-values without --record" "2 ok" "$rc $(grep -q 'need --record' <<<"$out" && echo ok)"
out=$("$bin" --record "$rec/x" --record-mb 1 2>&1); rc=$?
expect "--record-mb 1" "2" "$rc"
finish
