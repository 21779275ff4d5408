#!/usr/bin/env bash
# Listing keys on a real 3-node cluster through curl (GET /_cluster/keys): every node lists
# what the whole cluster holds, merged by version (a key deleted or overwritten on another
# node does not come back from a stale copy), sorted, paged with limit/next, filtered by
# prefix; ?values exports keys and values as NDJSON; bad parameters -> 400 naming them; a
# node that stays silent -> "current": false.
# Usage: listing_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need jq

start_node a 19940 17940 --no-mdns
start_node b 19941 17941 --no-mdns --join 127.0.0.1:17940
start_node c 19942 17942 --no-mdns --join 127.0.0.1:17940 --query-timeout 1s
for port in 19940 19941 19942; do
  wait_for 15 "node :$port sees 3 alive members" sees $port alive 3
done

# 30 keys written round-robin on the three nodes; b reads some of a's (stale copies later).
for i in $(seq -w 1 30); do
  port=$((19940 + 10#$i % 3))
  curl -s -m 5 -o /dev/null -X PUT "http://127.0.0.1:$port/item/$i" -d "value-$i"
done
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19940/other -d x
for i in 03 06 09; do curl -s -m 5 -o /dev/null "http://127.0.0.1:19941/item/$i"; done
curl -s -m 5 -o /dev/null -X DELETE http://127.0.0.1:19942/item/03   # deleted elsewhere
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19942/item/06 -d longer-value-06
sleep 0.3

list() { curl -s -m 10 "http://127.0.0.1:$1/_cluster/keys$2"; }
for port in 19940 19941 19942; do
  body=$(list $port '?prefix=item/')
  expect "node :$port lists 29 item/ keys" "29" "$(jq '.keys | length' <<<"$body")"
  expect "node :$port: sorted" "$(jq -c '[.keys[].key] | sort' <<<"$body")" \
    "$(jq -c '[.keys[].key]' <<<"$body")"
  expect "node :$port: the deleted key is not listed" "0" \
    "$(jq '[.keys[] | select(.key == "item/03")] | length' <<<"$body")"
  expect "node :$port: the overwritten key has its new size" "15" \
    "$(jq '.keys[] | select(.key == "item/06") | .size' <<<"$body")"
  expect "node :$port: current, no next" "true null" "$(jq -r '"\(.current) \(.next)"' <<<"$body")"
done
# (19941 read item/06 before 19942 overwrote it: its copy goes with the invalidation.)
etag_agrees() {
  local etag
  etag=$(curl -s -m 5 -o /dev/null -D - http://127.0.0.1:19941/item/06 | tr -d '\r' | sed -n 's/^ETag: //Ip')
  [ -n "$etag" ] && [ "$etag" = "$(list 19940 '?prefix=item/06' | jq -r '.keys[0].etag')" ]
}
wait_for 2 "an entry's etag is the key's ETag" etag_agrees
expect "every key without a prefix" "30" "$(list 19941 '' | jq '.keys | length')"

echo "# pages"
seen=0 after="" pages=0
while :; do
  body=$(list 19942 "?prefix=item/&limit=7${after:+&after=$after}")
  n=$(jq '.keys | length' <<<"$body")
  seen=$((seen + n)) pages=$((pages + 1))
  next=$(jq -r '.next' <<<"$body")
  [ "$next" = null ] && break
  after=$(jq -rn --arg v "$next" '$v | @uri')
  [ $pages -lt 20 ] || { fail "paging does not end"; break; }
done
expect "limit=7 pages through all 29" "29" "$seen"
[ $pages -ge 5 ] && pass "in $pages pages" || fail "only $pages pages"

echo "# export: ?values streams NDJSON to the end of the range"
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19941/item/07 -H 'Content-Type: text/plain' -d typed-07
sleep 0.2
curl -s -m 20 -D "$work/export.head" "http://127.0.0.1:19942/_cluster/keys?prefix=item/&values" > "$work/export"
expect "one line per key, then the end" "30" "$(wc -l < "$work/export")"
expect "NDJSON, chunked" "application/x-ndjson chunked" \
  "$(tr -d '\r' < "$work/export.head" | sed -n 's/^Content-Type: //Ip; s/^Transfer-Encoding: //Ip' | paste -sd' ')"
expect "every line is JSON" "30" "$(jq -c . "$work/export" 2>/dev/null | wc -l)"
expect "the last line says where it ended" '{"next":null,"current":true}' "$(tail -n 1 "$work/export")"
expect "a value, in base64" "longer-value-06" \
  "$(jq -r 'select(.key == "item/06") | .value' "$work/export" | base64 -d)"
expect "with its content type" "text/plain" \
  "$(jq -r 'select(.key == "item/07") | .content_type' "$work/export")"
expect "the deleted key is not exported" "0" "$(jq -s '[.[] | select(.key == "item/03")] | length' "$work/export")"
body=$(curl -s -m 20 "http://127.0.0.1:19940/_cluster/keys?prefix=item/&values&limit=4")
expect "?values&limit=4: four keys and where to go on" "5 item/05" \
  "$(wc -l <<<"$body") $(tail -n 1 <<<"$body" | jq -r .next)"
expect "an HTTP/1.0 client gets it whole too" "30" \
  "$(curl -s -0 -m 20 "http://127.0.0.1:19941/_cluster/keys?prefix=item/&values" | wc -l)"
expect "values=no" "400" "$(status GET 19940 '/_cluster/keys?values=no')"

echo "# bad parameters"
expect "limit=0" "400" "$(status GET 19940 '/_cluster/keys?limit=0')"
expect "limit=10001" "400" "$(status GET 19940 '/_cluster/keys?limit=10001')"
expect "limit=x" "400" "$(status GET 19940 '/_cluster/keys?limit=x')"
body=$(http GET 19940 '/_cluster/keys?limit=x')
[[ $body == *limit* ]] && pass "the 400 names the parameter" || fail "400 body: $body"
expect "a bad escape in prefix" "400" "$(status GET 19940 '/_cluster/keys?prefix=%zz')"
expect "a bad timeout" "400" "$(status GET 19940 '/_cluster/keys?timeout=soon')"
expect "POST" "405" "$(status POST 19940 /_cluster/keys)"

echo "# a silent member"
kill -STOP "${node_pid[a]}"
body=$(list 19942 '?prefix=item/&timeout=300ms')
expect "with a member stopped, the listing is not current" "false" "$(jq '.current' <<<"$body")"
kill -CONT "${node_pid[a]}"
finish
