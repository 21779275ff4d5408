#!/usr/bin/env bash
# Encrypted gossip with real processes on loopback: three nodes sharing a keyring form a
# cluster and serve reads across nodes; a node with another key and a node without any
# are refused (never members, counted in the metrics); the keys are rotated in three
# SIGHUP steps (add, switch primary, remove the old one) while every member stays alive
# and writes keep spreading; a broken keyring file on SIGHUP keeps the current keys.
# Usage: encryption_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

key_a=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
key_b=AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=
key_c=AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=
nodes=(e1 e2 e3)
declare -A http_of=([e1]=29886 [e2]=29887 [e3]=29888)

# write_keyrings KEY...: every node's keyring file gets these keys, the first primary
write_keyrings() {
  for n in "${nodes[@]}"; do
    printf '%s\n' "$@" > "$work/$n.keys"
    chmod 600 "$work/$n.keys"
  done
}
# reload_all STEP: SIGHUP to every node, then waits until each has logged the reload, as
# an operator must before the next step
reload_all() {
  local n before
  for n in "${nodes[@]}"; do
    before=$(grep -c "keyring reloaded" "$work/$n.log")
    kill -HUP "${node_pid[$n]}"
    wait_for 5 "$1: $n reloaded its keyring" \
      bash -c "[ \$(grep -c 'keyring reloaded' '$work/$n.log') -gt $before ]"
  done
}
all_see_three_alive() {
  for n in "${nodes[@]}"; do sees "${http_of[$n]}" alive 3 || return 1; done
}
# counter PORT REASON: the node's ckv_gossip_rejected_total{reason=REASON}
rejected() {
  curl -s -m 5 "http://127.0.0.1:$1/_cluster/metrics" |
    awk -v want="ckv_gossip_rejected_total{reason=\"$2\"}" '$1 == want { print $2 }'
}
# spreads TAG: a write on each node is read on the next one
spreads() {
  local i=0
  for n in "${nodes[@]}"; do
    local next=${nodes[$(( (i + 1) % 3 ))]}
    expect "$1: POST on $n" "200 " "$(http POST "${http_of[$n]}" "/$1-$n" -d "$1 from $n")"
    expect "$1: GET on $next" "200 $1 from $n" "$(http GET "${http_of[$next]}" "/$1-$n")"
    i=$((i + 1))
  done
}

write_keyrings "$key_a"
start_node e1 29886 27956 --no-mdns --keyring-file "$work/e1.keys"
start_node e2 29887 27957 --no-mdns --keyring-file "$work/e2.keys" --join 127.0.0.1:27956
start_node e3 29888 27958 --no-mdns --keyring-file "$work/e3.keys" --join 127.0.0.1:27956
wait_for 15 "three nodes with one key form a cluster" all_see_three_alive
grep -q "gossip is encrypted and authenticated (AES-256-GCM): 1 key, primary" "$work/e1.log" &&
  pass "e1 says its gossip is encrypted" || fail "e1 did not log that its gossip is encrypted"
spreads start

echo "# strangers: another key, and no key"
start_node wrongkey 29889 27959 --no-mdns --encrypt-key "$key_c" --join 127.0.0.1:27956
start_node plaintext 29890 27960 --no-mdns --join 127.0.0.1:27956
grep -q "gossip is NOT encrypted" "$work/plaintext.log" 2>/dev/null ||
  sleep 0.5  # the warning comes once, at start
wait_for 10 "e1 counts messages sealed with another key" \
  bash -c "[ \"\$(curl -s http://127.0.0.1:29886/_cluster/metrics | awk '\$1 == \"ckv_gossip_rejected_total{reason=\\\"auth\\\"}\" { print \$2 }')\" != 0 ]"
wait_for 10 "e1 counts plaintext messages" \
  bash -c "[ \"\$(curl -s http://127.0.0.1:29886/_cluster/metrics | awk '\$1 == \"ckv_gossip_rejected_total{reason=\\\"mode\\\"}\" { print \$2 }')\" != 0 ]"
sleep 2  # the strangers' join retries keep coming; none may succeed
for n in "${nodes[@]}"; do
  members=$(curl -s -m 5 "http://127.0.0.1:${http_of[$n]}/_cluster/members")
  case "$members" in
    *wrongkey* | *plaintext*) fail "$n lists a stranger: $members" ;;
    *) pass "$n lists no stranger" ;;
  esac
done
expect "the node with another key is alone" 1 "$(members_in 29889 alive)"
expect "the plaintext node is alone" 1 "$(members_in 29890 alive)"
expect "the node with another key cannot read the cluster's keys" 404 "$(status GET 29889 /start-e1)"
grep -q "gossip is NOT encrypted" "$work/plaintext.log" && pass "the plaintext node warns at start" ||
  fail "the plaintext node did not warn that its gossip is not encrypted"
grep -q "not sealed with any key of this node's keyring" "$work/e1.log" &&
  pass "e1 logged the refused messages" || fail "e1 did not log the refused messages"
stop_node wrongkey TERM
stop_node plaintext TERM

echo "# key rotation without a restart, watched with cluster-kv keyring"
fingerprint() { printf '%s' "$1" | base64 -d | sha256sum | cut -c1-8; }
fp_a=$(fingerprint "$key_a")
fp_b=$(fingerprint "$key_b")
"$bin" keyring --node http://127.0.0.1:29886 > "$work/keyring.out" 2>&1
expect "keyring: every member on key A, exit 0" "0 3" \
  "$? $(grep -c "^e[123]  *$fp_a  *$fp_a\$" "$work/keyring.out")"
grep -q "$key_a" "$work/keyring.out" && fail "keyring printed key material" ||
  pass "keyring prints fingerprints, never keys"
write_keyrings "$key_a" "$key_b"
reload_all "step 1, add key B"
grep -q "keyring reloaded: 2 keys" "$work/e3.log" && pass "e3 now holds 2 keys" || fail "e3 did not log 2 keys"
spreads rot1
write_keyrings "$key_b" "$key_a"
before=$(grep -c "keyring reloaded" "$work/e1.log")
kill -HUP "${node_pid[e1]}"
wait_for 5 "step 2 on e1 only" bash -c "[ \$(grep -c 'keyring reloaded' '$work/e1.log') -gt $before ]"
keyring_says() {  # keyring_says CODE: the keyring command at e2 exits with CODE
  "$bin" keyring --node http://127.0.0.1:29887 > "$work/keyring.out" 2>&1
  [ $? -eq "$1" ]
}
wait_for 10 "keyring: members disagree on the primary while e1 alone switched, exit 1" keyring_says 1
grep -q "disagree on the primary key: $fp_a on 2, $fp_b on 1\|disagree on the primary key: $fp_b on 1, $fp_a on 2" "$work/keyring.out" &&
  pass "it says which key is primary where" || fail "keyring: $(cat "$work/keyring.out")"
reload_all "step 2, B becomes primary"
spreads rot2
write_keyrings "$key_b"
reload_all "step 3, remove key A"
grep -q "keyring reloaded: 1 key, primary" "$work/e2.log" && pass "e2 now holds 1 key" || fail "e2 did not log 1 key"
only_b() { "$bin" keyring --node http://127.0.0.1:29888 > "$work/keyring.out" 2>&1 &&
  [ "$(grep -c "^e[123]  *$fp_b  *$fp_b\$" "$work/keyring.out")" = 3 ]; }
wait_for 10 "keyring: every member on key B alone, exit 0" only_b
spreads rot3
sleep 1
all_see_three_alive && pass "every member stayed alive through the rotation" ||
  fail "a member was lost during the rotation: $(curl -s http://127.0.0.1:29886/_cluster/members)"
for n in "${nodes[@]}"; do
  grep -qE -- "-> (suspect|dead)" "$work/$n.log" &&
    fail "$n suspected a member: $(grep -E -- '-> (suspect|dead)' "$work/$n.log" | head -3)" ||
    pass "$n suspected nobody, strangers and rotation included"
done
start_node oldkey 29891 27961 --no-mdns --encrypt-key "$key_a" --join 127.0.0.1:27956
sleep 2
expect "a node with the removed key is alone" 1 "$(members_in 29891 alive)"
expect "and nobody lists it" 3 "$(members_in 29886 alive)"
stop_node oldkey TERM

echo "# a broken keyring file on SIGHUP keeps the current keys"
printf 'garbage\n' > "$work/e2.keys"
kill -HUP "${node_pid[e2]}"
wait_for 5 "e2 refuses the broken file" grep -q "SIGHUP: keeping the current keys" "$work/e2.log"
spreads after-bad-reload

for n in "${nodes[@]}"; do stop_node "$n" TERM; done
finish
