#!/usr/bin/env bash
# The operator's CLI (cluster-kv members|health|get|put|delete) against real nodes: its
# output, and every exit code a script relies on (0 done, 1 no, 2 usage, 3 unreachable,
# 4 refused, 5 the node failed), over HTTP and over HTTPS with a token.
# Usage: operator_cli_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need openssl python3

# rc WANT DESCRIPTION CLI-ARGS...: runs the CLI, checks its exit code; output in $work/out
rc() {
  local want=$1 what=$2
  shift 2
  timeout 20 "$bin" "$@" > "$work/out" 2> "$work/err"
  local got=$?
  [ "$got" = "$want" ] && pass "$what: exit $got $(head -c 120 "$work/err")" ||
    fail "$what: want exit $want, got $got: $(head -c 300 "$work/err") / $(head -c 300 "$work/out")"
}

start_node one 19900 17900 --no-mdns --tag role=cache --tag az=z1
start_node two 19901 17901 --no-mdns --join 127.0.0.1:17900 --tag role=db
wait_for 10 "two nodes form a cluster" sees 19900 alive 2
export CLUSTER_KV_NODE=http://127.0.0.1:19900

echo "# members and health"
rc 0 "members" members
head -1 "$work/out" | grep -q '^NAME  *ADDRESS  *STATE  *INCARNATION  *TAGS$' && pass "members prints a table head" ||
  fail "members head: $(head -1 "$work/out")"
grep -q '^one (this node)  *127.0.0.1:17900  *alive  *1  *az=z1,role=cache$' "$work/out" &&
  grep -q '^two  *127.0.0.1:17901  *alive  *1  *role=db$' "$work/out" &&
  pass "members lists both, this node marked" || fail "members: $(cat "$work/out")"
rc 0 "members --status dead" members --status dead
expect "no dead member: the head only" 1 "$(wc -l < "$work/out")"
rc 0 "members --json" members --json --status alive
expect "--json is the node's JSON" 2 "$(jq '.members | length' "$work/out")"
rc 2 "members --status bogus is refused by the node (400)" members --status bogus
rc 0 "members --tag" members --tag role=db
expect "--tag lists the tagged member only" "two" "$(tail -n +2 "$work/out" | awk '{ print $1 }')"
rc 0 "members --tag twice: both must hold" members --tag role=cache --tag az=z1 --json
expect "the node holding both" "one" "$(jq -r '.members[].name' "$work/out")"
expect "tags in the JSON" '{"az":"z1","role":"cache"}' "$(jq -c '.members[0].tags' "$work/out")"
rc 2 "a tag filter that is not KEY=VALUE (400)" members --tag oops
rc 0 "health of a serving node" health
grep -q '^ok: node one, 2 members alive$' "$work/out" && pass "health says ok" || fail "health: $(cat "$work/out")"

echo "# get, put, delete"
rc 0 "put with a value" put greeting hello
grep -q '^"[0-9]*\.[0-9]*@[0-9a-f]*"$' "$work/out" && pass "put prints the ETag" || fail "put printed: $(cat "$work/out")"
etag=$(cat "$work/out")
rc 0 "get it from the other node" get greeting --node http://127.0.0.1:19901
expect "the value's bytes, no newline added" hello "$(cat "$work/out")"
printf 'line one\nline two\0binary' > "$work/value"
timeout 10 "$bin" put "dir/with space/ü" --content-type text/plain < "$work/value" > /dev/null
expect "put from stdin exits 0" 0 $?
timeout 10 "$bin" get "dir/with space/ü" > "$work/back"
cmp -s "$work/value" "$work/back" && pass "a value from stdin, with odd key bytes, comes back byte for byte" ||
  fail "stdin value differs"
expect "its content type was kept" "text/plain" \
  "$(curl -s -o /dev/null -w '%{content_type}' http://127.0.0.1:19900/dir/with%20space/%C3%BC)"
rc 1 "put --if-match a stale ETag: precondition failed" put greeting again --if-match '"1.0@1"'
rc 0 "put --if-match the current ETag" put greeting again --if-match "$etag"
rc 1 "put --create-only of an existing key" put greeting x --create-only
rc 0 "put --ttl" put short-lived v --ttl 1h
rc 1 "get of a missing key" get no-such-key
rc 0 "delete" delete greeting
rc 1 "delete of a missing key" delete greeting
rc 2 "a reserved key is refused" get _cluster/anything
rc 2 "a key over the limit is refused by the node (400)" put "$(head -c 2000 /dev/zero | tr "\\0" k)" v

echo "# usage and unreachable"
rc 2 "an unknown flag" get greeting --frobnicate
rc 2 "get without a key" get
rc 2 "a bad node URL" get k --node ftp://x
rc 2 "a bad timeout" get k --timeout soon
rc 0 "--help" put --help
grep -q -- '--if-match' "$work/out" && pass "put --help documents --if-match" || fail "put --help: $(cat "$work/out")"
rc 3 "nothing listens" get k --node http://127.0.0.1:19905
python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 19904)); s.listen(8); c = s.accept(); time.sleep(30)' &
silent=$!
sleep 0.5
rc 3 "a node that never answers, within --timeout" get k --node http://127.0.0.1:19904 --timeout 500ms
kill "$silent" 2>/dev/null; wait "$silent" 2>/dev/null

echo "# HTTPS and tokens"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=cli -addext subjectAltName=IP:127.0.0.1 2>/dev/null
admin=cli-admin-0123456789abcdef
reader=cli-reader-0123456789abcd
printf '%s admin\n%s read\n' "$admin" "$reader" > "$work/tokens"
printf '%s\n' "$admin" > "$work/admin-token"
chmod 600 "$work/tokens" "$work/key.pem" "$work/admin-token"
start_node secure 19902 17902 --no-mdns --http-tls-cert "$work/cert.pem" --http-tls-key "$work/key.pem" \
  --http-token-file "$work/tokens"
s=https://127.0.0.1:19902
wait_for 10 "the HTTPS node serves" curl -s -m 1 --cacert "$work/cert.pem" -o /dev/null $s/x
rc 4 "no token: refused" get k --node $s --cacert "$work/cert.pem"
rc 3 "an unknown CA: TLS fails" get k --node $s --token-file "$work/admin-token"
rc 0 "put over HTTPS with a token file" put k v --node $s --cacert "$work/cert.pem" --token-file "$work/admin-token"
CLUSTER_KV_TOKEN=$reader rc 0 "get with the token from the environment" get k --node $s --cacert "$work/cert.pem"
expect "the value over HTTPS" v "$(cat "$work/out")"
CLUSTER_KV_TOKEN=$reader rc 4 "a read token cannot delete" delete k --node $s --cacert "$work/cert.pem"
rc 0 "members over HTTPS as admin" members --node $s --cacert "$work/cert.pem" --token-file "$work/admin-token"
rc 2 "a missing token file" get k --node $s --token-file "$work/none"
rc 2 "a CA file that cannot be used is bad usage" get k --node $s --cacert "$work/none.pem"

echo "# force-leave"
start_node three 19906 17906 --no-mdns --join 127.0.0.1:17900
wait_for 10 "a third node joins" sees 19900 alive 3
rc 1 "force-leave of a live member is refused" force-leave three
grep -q 'is alive' "$work/err" && pass "the refusal says why" || fail "refusal: $(cat "$work/err")"
rc 1 "force-leave of an unknown member" force-leave nobody
rc 1 "force-leave of the node itself" force-leave one
kill -9 "${node_pid[three]}"
wait "${node_pid[three]}" 2>/dev/null
unset "node_pid[three]"
wait_for 60 "one declares the killed node dead" sees 19900 dead 1
rc 0 "force-leave of the failed member" force-leave three
expect "it says so" "three is marked left" "$(cat "$work/out")"
expect "one holds it left at once" left \
  "$(curl -s http://127.0.0.1:19900/_cluster/members | jq -r '.members[] | select(.name == "three") | .state')"
wait_for 20 "the news reaches two" sees 19901 left 1
CLUSTER_KV_TOKEN=$reader rc 4 "force-leave needs an admin token" force-leave x --node $s --cacert "$work/cert.pem"
grep -q 'ckv_forced_leaves_total 1' <(curl -s http://127.0.0.1:19900/_cluster/metrics) &&
  pass "counted in ckv_forced_leaves_total" || fail "ckv_forced_leaves_total is not 1"

echo "# a node that is not serving"
stop_node two TERM
start_node lonely 19903 17903 --no-mdns --join 127.0.0.1:17907
wait_for 10 "the lonely node answers" curl -s -m 1 -o /dev/null http://127.0.0.1:19903/_cluster/health
rc 1 "health of a node still joining: exit 1" health --node http://127.0.0.1:19903
grep -q '^joining' "$work/out" && pass "it says joining" || fail "health: $(cat "$work/out")"
finish
