#!/usr/bin/env bash
# Watching on a real 3-node cluster through curl: a long-poll (GET ?wait= with
# If-None-Match) answers when another node writes the key and 304 when the wait ends; a
# stream (GET /_cluster/watch) gives puts and deletes in order, resumes after
# Last-Event-ID, says "expire" when a TTL runs out and "reset" when a peer is killed, and
# ends with a reset a client that stops reading; 1,000 long-polls wait at once.
# Usage: watch_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need jq python3

start_node a 19910 17910 --no-mdns
start_node b 19911 17911 --no-mdns --join 127.0.0.1:17910
start_node c 19912 17912 --no-mdns --join 127.0.0.1:17910
for port in 19910 19911 19912; do
  wait_for 15 "node :$port sees 3 alive members" sees $port alive 3
done
ms() { echo $(($(date +%s%N) / 1000000)); }
etag_of() { curl -s -m 5 -o /dev/null -D - "http://127.0.0.1:$1$2" | tr -d '\r' | sed -n 's/^ETag: //Ip'; }

echo "# long-poll"
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19910/lp -d one
etag=$(etag_of 19911 /lp)
start=$(ms)
curl -s -m 20 -o "$work/lp.body" -w '%{http_code}' -H "If-None-Match: $etag" \
  "http://127.0.0.1:19911/lp?wait=15s" > "$work/lp.code" &
poll=$!
sleep 0.5
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19912/lp -d two
wait "$poll"
took=$(($(ms) - start))
expect "a write on another node answers the long-poll" "200 two" "$(cat "$work/lp.code") $(cat "$work/lp.body")"
[ "$took" -lt 3000 ] && pass "at once ($took ms, the wait was 15 s)" || fail "it took $took ms"
etag=$(etag_of 19911 /lp)
start=$(ms)
expect "unchanged: 304 when the wait ends" "304" \
  "$(status GET 19911 '/lp?wait=1s' -H "If-None-Match: $etag")"
took=$(($(ms) - start))
[ "$took" -ge 900 ] && [ "$took" -lt 3000 ] && pass "after the wait ($took ms)" || fail "after $took ms"
expect "without If-None-Match it answers at once" "200" "$(status GET 19911 '/lp?wait=10m')"
expect "a wait shorter than the read: 304, not an error" "304" \
  "$(status GET 19910 '/lp?wait=1ms' -H "If-None-Match: $etag")"
expect "?wait=0s (a wait is positive)" "400" "$(status GET 19910 '/lp?wait=0s' -H "If-None-Match: $etag")"
expect "a wait over 10 minutes" "400" "$(status GET 19911 '/lp?wait=11m' -H "If-None-Match: $etag")"
expect "a bad wait" "400" "$(status GET 19911 '/lp?wait=soon' -H "If-None-Match: $etag")"
curl -s -m 20 -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" \
  "http://127.0.0.1:19910/lp?wait=15s" > "$work/lp.code" &
poll=$!
sleep 0.3
curl -s -m 5 -o /dev/null -X DELETE http://127.0.0.1:19912/lp
wait "$poll"
expect "a delete answers it with 404" "404" "$(cat "$work/lp.code")"

echo "# 1000 long-polls at once"
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19910/many -d v1
etag=$(etag_of 19911 /many)
# (curl runs at most 300 transfers at once: four of them, 250 each)
pids=()
for part in 1 2 3 4; do
  urls=()
  for i in $(seq 250); do urls+=(-o /dev/null "http://127.0.0.1:19911/many?wait=30s&n=$part-$i"); done
  curl -s --no-progress-meter -Z --parallel-max 250 --parallel-immediate -m 40 \
    -H "If-None-Match: $etag" -w '%{http_code}\n' "${urls[@]}" > "$work/many.$part" &
  pids+=($!)
done
sleep 3
open=$(curl -s -m 5 http://127.0.0.1:19911/_cluster/metrics | sed -n 's/^ckv_http_connections \([0-9]*\).*/\1/p')
[ "${open:-0}" -ge 1000 ] && pass "1000 connections wait ($open open)" || fail "only ${open:-0} open"
start=$(ms)
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19912/many -d v2
for pid in "${pids[@]}"; do wait "$pid"; done
took=$(($(ms) - start))
expect "every one answered 200" "1000" "$(cat "$work"/many.? | grep -c '^200$')"
[ "$took" -lt 5000 ] && pass "within $took ms of the write" || fail "took $took ms"

echo "# streams"
curl -s -N -m 30 -D "$work/sse.head" "http://127.0.0.1:19911/_cluster/watch?prefix=w/" > "$work/sse" &
sse=$!
sleep 0.5
expect "text/event-stream" "text/event-stream" \
  "$(tr -d '\r' < "$work/sse.head" | sed -n 's/^Content-Type: //Ip')"
for i in 1 2 3; do curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19910/w/$i -d "v$i"; done
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19912/other -d x
curl -s -m 5 -o /dev/null -X DELETE http://127.0.0.1:19912/w/2
sleep 0.5
events=$(grep '^event: ' "$work/sse" | cut -c8- | paste -sd' ')
keys=$(grep '^data: ' "$work/sse" | sed 's/.*"key":"\([^"]*\)".*/\1/' | paste -sd' ')
expect "puts and deletes of the prefix, in order" "put put put delete" "$events"
expect "their keys" "w/1 w/2 w/3 w/2" "$keys"
expect "an event's etag is the key's ETag" "$(etag_of 19910 /w/3)" \
  "\"$(grep '"key":"w/3"' "$work/sse" | sed 's/.*"etag":"\\"\([^\\]*\)\\"".*/\1/')\""
second_id=$(grep '^id: ' "$work/sse" | sed -n 2p | cut -c5-)
resumed=$(curl -s -N -m 2 -H "Last-Event-ID: $second_id" "http://127.0.0.1:19911/_cluster/watch?prefix=w/")
expect "Last-Event-ID resumes after it" "put delete" \
  "$(grep '^event: ' <<<"$resumed" | cut -c8- | paste -sd' ')"
gone=$(curl -s -N -m 2 -H "Last-Event-ID: 0-5" "http://127.0.0.1:19911/_cluster/watch?prefix=w/")
expect "an id from another process: reset first" "reset" "$(grep '^event: ' <<<"$gone" | head -1 | cut -c8-)"

curl -s -m 5 -o /dev/null -X PUT "http://127.0.0.1:19910/w/brief?ttl=1s" -d soon
wait_for 5 "a value written elsewhere with ?ttl=1s expires on the stream" \
  grep -q '^event: expire' "$work/sse"
expect "the expire names its key" "w/brief" \
  "$(grep -A1 '^event: expire' "$work/sse" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p' | head -1)"

echo "# a slow consumer: bounded, then reset and closed"
coproc SLOW { python3 "$(dirname "$0")/../../tools/watch_probe.py" slow 19911; }
read -r _ <&"${SLOW[0]}"  # connected, and reading nothing
sleep 0.3
pad=$(printf 'x%.0s' $(seq 200))
for i in $(seq 20000); do printf 'url = "http://127.0.0.1:19910/slow/%s-%d"\n' "$pad" "$i"; done > "$work/slow.urls"
curl -s -X PUT -d v -K "$work/slow.urls" -o /dev/null
sleep 1
echo go >&"${SLOW[1]}"
read -r slow <&"${SLOW[0]}"
expect "its stream ends with a reset" "reset" "$(jq -r .last <<<"$slow")"
expect "and the node closed it" "true" "$(jq -r .closed <<<"$slow")"
n=$(jq -r .events <<<"$slow")
[ "${n:-20000}" -lt 20000 ] && pass "it got $n of 20000 events, not all of them" || fail "it got ${n:-?} events"
expect "the node serves on" "200" "$(status GET 19911 /_cluster/health)"

echo "# a peer killed: reset"
stop_node c KILL
wait_for 20 "the stream says reset" grep -q '^event: reset' "$work/sse"
kill "$sse" 2>/dev/null
finish
