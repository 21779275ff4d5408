#!/usr/bin/env bash
# Keys that expire, on a real 3-node cluster on loopback, through curl: ?ttl= answers
# Cache-Control and Expires on every node; after expiry every node answers 404, and DELETE
# too; a rewrite after expiry is served everywhere; bad ttls are 400 naming the parameter;
# --default-ttl applies to writes without ?ttl=. Usage: ttl_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

ports="19970 19971 19972"
start_node a 19970 17970 --no-mdns --default-ttl 1h
start_node b 19971 17971 --no-mdns --join 127.0.0.1:17970
start_node c 19972 17972 --no-mdns --join 127.0.0.1:17970
for port in $ports; do
  wait_for 15 "node :$port sees 3 alive members" sees $port alive 3
done

headers() {  # headers METHOD PORT PATH: the response's header lines
  curl -s -m 10 -o /dev/null -D - -X "$1" "http://127.0.0.1:$2$3" | tr -d '\r'
}

echo "# a value with ?ttl=2s"
expect "POST ?ttl=2s" "200 " "$(http POST 19970 '/t?ttl=2s' -d short-lived)"
for port in $ports; do
  expect "GET on :$port before expiry" "200 short-lived" "$(http GET $port /t)"
  h=$(headers GET $port /t)
  age=$(sed -n 's/^Cache-Control: max-age=\([0-9]*\)$/\1/p' <<<"$h")
  if [ -n "$age" ] && [ "$age" -le 2 ]; then pass "Cache-Control on :$port (max-age=$age)"
  else fail "Cache-Control on :$port: $(grep -i cache-control <<<"$h")"; fi
  grep -q '^Expires: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] [0-9]\{4\} [0-9:]\{8\} GMT$' <<<"$h" \
    && pass "Expires on :$port" || fail "Expires on :$port: $(grep -i expires <<<"$h")"
done
h=$(headers HEAD 19971 /t)
grep -q '^Cache-Control: max-age=' <<<"$h" && pass "HEAD carries Cache-Control" || fail "HEAD: $h"
h=$(headers GET 19971 /plain-missing)
grep -qi '^Cache-Control' <<<"$h" && fail "a 404 carries Cache-Control" || pass "no Cache-Control on a 404"

sleep 2.2
echo "# after expiry"
for port in $ports; do
  expect "GET on :$port after expiry" "404 " "$(http GET $port /t)"
done
expect "DELETE of an expired key" "404" "$(status DELETE 19971 /t)"

echo "# a rewrite after expiry wins everywhere"
expect "POST again on :19972" "200 " "$(http POST 19972 /t -d again)"
# Nodes that held the expired copy learn of the rewrite by its invalidation, asynchronously.
again_on() { [ "$(http GET "$1" /t)" = "200 again" ]; }
for port in $ports; do
  wait_for 2 "GET on :$port after the rewrite" again_on "$port"
done
h=$(headers GET 19972 /t)
grep -qi '^Cache-Control' <<<"$h" && fail "a value without a TTL carries Cache-Control" \
  || pass "no Cache-Control without a TTL"

echo "# --default-ttl on node a"
expect "POST without ?ttl on :19970" "200 " "$(http POST 19970 /d -d defaulted)"
h=$(headers GET 19971 /d)
age=$(sed -n 's/^Cache-Control: max-age=\([0-9]*\)$/\1/p' <<<"$h")
if [ -n "$age" ] && [ "$age" -gt 3500 ] && [ "$age" -le 3600 ]; then pass "the default ttl applies (max-age=$age)"
else fail "the default ttl: $(grep -i cache-control <<<"$h")"; fi

echo "# bad ttls"
for bad in 0 -1s soon 11000d 1y; do
  got=$(http PUT 19971 "/b?ttl=$bad" -d x)
  [[ $got == "400 ttl: "* ]] && pass "ttl=$bad -> 400 naming ttl" || fail "ttl=$bad: $got"
done
expect "nothing was written by a bad ttl" "404 " "$(http GET 19971 /b)"
finish
