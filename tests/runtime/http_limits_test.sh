#!/usr/bin/env bash
# HTTP limits on real nodes: connections over --http-max-connections are answered 503 and
# closed while the open ones are served, and a freed slot is usable again; under
# --http-read-timeout a request whose header or body trickles in gets 408 and the
# connection closes (a steady trickle does not extend the deadline), an idle keep-alive
# connection is closed, and a client that never reads its responses is cut off; other
# clients are served meanwhile. (Header and body size limits: cluster_test.sh.)
# Usage: http_limits_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need timeout

capped=29896    # at most 8 connections
impatient=29897 # 1 s to send a request

start_node capped $capped 27966 --no-mdns --http-max-connections 8
start_node impatient $impatient 27967 --no-mdns --http-read-timeout 1s
wait_for 10 "the capped node serves" curl -sf -m 1 http://127.0.0.1:$capped/_cluster/health
wait_for 10 "the impatient node serves" curl -sf -m 1 http://127.0.0.1:$impatient/_cluster/health

# metric PORT NAME: a metric's value
metric() {
  curl -s -m 5 "http://127.0.0.1:$1/_cluster/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
# ms_since START_NS
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "# connection limit"
idle=()
for _ in 1 2 3 4 5 6 7; do
  exec {fd}<>"/dev/tcp/127.0.0.1/$capped"
  idle+=("$fd")
done
# The metrics request is the eighth connection.
wait_for 5 "the capped node counts 7 idle connections and this one" \
  bash -c "[ \"\$(curl -s http://127.0.0.1:$capped/_cluster/metrics | awk '\$1 == \"ckv_http_connections\" { print \$2 }')\" = 8 ]"
exec {fd}<>"/dev/tcp/127.0.0.1/$capped"
idle+=("$fd")
sleep 0.2
curl -s -m 5 -D "$work/headers" -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$capped/k" > "$work/code"
expect "the ninth connection is answered 503" 503 "$(cat "$work/code")"
grep -q "too many connections (the limit is 8)" "$work/body" && pass "the 503 says why" ||
  fail "the 503's body: $(cat "$work/body")"
grep -qi "^Retry-After: 1" "$work/headers" && pass "the 503 carries Retry-After" ||
  fail "no Retry-After on the 503"
printf 'GET /k HTTP/1.1\r\nHost: x\r\n\r\n' >&"${idle[0]}"
got=$(timeout 5 head -c 12 <&"${idle[0]}")
expect "an open connection is still served" "HTTP/1.1 404" "$got"
exec {idle[0]}>&- {idle[1]}>&-
wait_for 5 "a freed slot serves a new client" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$capped/k)\" = 404 ]"
refused=$(metric $capped ckv_http_connections_refused_total)
[ "${refused:-0}" -ge 1 ] 2>/dev/null && pass "refusals are counted ($refused)" ||
  fail "ckv_http_connections_refused_total is '$refused'"
for fd in "${idle[@]:2}"; do exec {fd}>&-; done

echo "# read timeout"
# answer_of DESCRIPTION WANT_PREFIX FD: reads the connection to its end (at most 5 s);
# passes if it ended within 3 s with WANT_PREFIX (empty: nothing at all)
answer_of() {
  local what=$1 want=$2 fd=$3 start=$(date +%s%N)
  timeout 5 cat <&"$fd" > "$work/answer"
  local rc=$? took=$(ms_since "$start")
  exec {fd}>&-
  local head=$(head -c ${#want} "$work/answer")
  if [ "$rc" -ne 0 ] || [ "$took" -gt 3000 ]; then
    fail "$what: the connection stayed open (${took} ms)"
  elif [ "$head" != "$want" ] || { [ -z "$want" ] && [ -s "$work/answer" ]; }; then
    fail "$what: answered '$(head -c 80 "$work/answer")'"
  else
    pass "$what (closed after ${took} ms)"
  fi
}
exec {slow_header}<>"/dev/tcp/127.0.0.1/$impatient"
printf 'GET /k HTTP/1.1\r\nHost: x\r\n' >&"$slow_header"
expect "another client is served meanwhile" 404 "$(status GET $impatient /k)"
answer_of "a header that never ends gets 408" "HTTP/1.1 408" "$slow_header"

exec {slow_body}<>"/dev/tcp/127.0.0.1/$impatient"
printf 'POST /partial HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789' >&"$slow_body"
answer_of "a body that never ends gets 408" "HTTP/1.1 408" "$slow_body"
expect "and nothing of it was stored" 404 "$(status GET $impatient /partial)"

exec {trickle}<>"/dev/tcp/127.0.0.1/$impatient"
printf 'GET /k HTTP/1.1\r\n' >&"$trickle"
( for _ in $(seq 12); do printf 'X-Slow: 1\r\n' >&"$trickle" 2>/dev/null || exit 0; sleep 0.25; done ) &
trickler=$!
answer_of "a header trickling a line every 250 ms still gets 408 at the deadline" "HTTP/1.1 408" "$trickle"
kill "$trickler" 2>/dev/null
wait "$trickler" 2>/dev/null

exec {quiet}<>"/dev/tcp/127.0.0.1/$impatient"
printf 'GET /k HTTP/1.1\r\nHost: x\r\n\r\n' >&"$quiet"
timeout 0.5 cat <&"$quiet" > "$work/first"
expect "a keep-alive request is answered, and the connection stays open" \
  "124 HTTP/1.1 404" "$? $(head -c 12 "$work/first")"
answer_of "an idle keep-alive connection is closed without an answer" "" "$quiet"

echo "# a client that never reads"
head -c 1048576 /dev/urandom > "$work/mib"
expect "POST 1 MiB" 200 "$(status POST $impatient /big --data-binary @"$work/mib")"
exec {deaf}<>"/dev/tcp/127.0.0.1/$impatient"
for _ in $(seq 32); do printf 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n'; done >&"$deaf"
before=$(metric $impatient ckv_http_timeouts_total)
sleep 3
expect "other clients are served" 200 "$(status GET $impatient /big)"
after=$(metric $impatient ckv_http_timeouts_total)
[ "${after:-0}" -gt "${before:-0}" ] 2>/dev/null && pass "the deaf client was cut off ($before -> $after)" ||
  fail "the deaf client's connection was not timed out ($before -> $after)"
bytes=$(timeout 5 cat <&"$deaf" | wc -c)
exec {deaf}>&-
[ "$bytes" -lt $((32 * 1048576)) ] && pass "it got only part of its 32 MiB ($bytes bytes) before the close" ||
  fail "the deaf client got everything ($bytes bytes)"

stop_node capped TERM
stop_node impatient TERM
finish
