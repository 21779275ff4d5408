#!/usr/bin/env bash
# Content types on a real 2-node cluster through curl: a value's Content-Type and
# Content-Encoding come back on GET and HEAD from any node (and after a restart, from the
# store); none given -> application/octet-stream; one that could not be a header -> 400;
# every response says X-Content-Type-Options: nosniff.
# Usage: content_type_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

start_node a 19930 17930 --no-mdns
start_node b 19931 17931 --no-mdns --join 127.0.0.1:17930
for port in 19930 19931; do
  wait_for 15 "node :$port sees 2 alive members" sees $port alive 2
done

# header PORT METHOD PATH NAME: the response header NAME's value (empty: absent)
header() {
  local method=(-X "$2")
  [ "$2" = HEAD ] && method=(-I)  # (with -X HEAD, curl would wait for a body)
  curl -s -m 10 -o /dev/null -D - "${method[@]}" "http://127.0.0.1:$1$3" | tr -d '\r' |
    sed -n "s/^$4: //Ip" | head -n 1
}

json='{"greeting":"hello"}'
expect "a typed PUT" "200" "$(status PUT 19930 /doc -H 'Content-Type: application/json; charset=utf-8' \
  -H 'Content-Encoding: identity' --data-binary "$json")"
expect "an untyped PUT (curl --data-binary sends no type with -H 'Content-Type:')" "200" \
  "$(status PUT 19930 /raw -H 'Content-Type:' --data-binary 'bytes')"
for port in 19930 19931; do
  expect "GET :$port gives the stored type" "application/json; charset=utf-8" \
    "$(header $port GET /doc Content-Type)"
  expect "GET :$port gives the stored encoding" "identity" "$(header $port GET /doc Content-Encoding)"
  expect "HEAD :$port too" "application/json; charset=utf-8" "$(header $port HEAD /doc Content-Type)"
  expect "GET :$port of an untyped value" "application/octet-stream" "$(header $port GET /raw Content-Type)"
  expect "an untyped value has no encoding" "" "$(header $port GET /raw Content-Encoding)"
done
expect "the body is unchanged" "$json" "$(curl -s -m 5 http://127.0.0.1:19931/doc)"

echo "# a later write replaces the type; a conditional write keeps its own"
curl -s -m 5 -o /dev/null -X PUT http://127.0.0.1:19931/doc -H 'Content-Type: text/plain' -d 'now text'
# 19930 cached /doc from its own write: its copy goes with the invalidation, which is
# asynchronous (README, "Cluster reads are fresh"); CI once read the old type at once.
newest_type_on_a() { [ "$(header 19930 GET /doc Content-Type)" = text/plain ]; }
wait_for 2 "the newest write's type, from the other node" newest_type_on_a
expect "and its encoding is gone" "" "$(header 19930 GET /doc Content-Encoding)"
expect "create-only PUT with a type" "200" "$(status PUT 19931 /created -H 'If-None-Match: *' \
  -H 'Content-Type: image/svg+xml' --data-binary '<svg/>')"
expect "its type" "image/svg+xml" "$(header 19930 GET /created Content-Type)"

echo "# bad types"
expect "a type over 256 bytes" "400" \
  "$(status PUT 19930 /bad -H "Content-Type: text/$(head -c 300 /dev/zero | tr '\0' x)" -d v)"
expect "a type with a byte outside ASCII" "400" "$(status PUT 19930 /bad -H $'Content-Type: caf\xc3\xa9/x' -d v)"
expect "nothing was stored" "404" "$(status GET 19931 /bad)"

echo "# nosniff on every response"
for req in "GET /doc" "GET /missing" "GET /_cluster/health" "GET /_cluster/nope" "PUT /_cluster/keys"; do
  set -- $req
  expect "$req says nosniff" "nosniff" "$(header 19930 "$1" "$2" X-Content-Type-Options)"
done

echo "# after a restart, from the store"
stop_node a
start_node a 19930 17930 --no-mdns --join 127.0.0.1:17931
wait_for 15 "a is back" sees 19930 alive 2
expect "the type survives a restart" "image/svg+xml" "$(header 19930 GET /created Content-Type)"
finish
