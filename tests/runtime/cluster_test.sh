#!/usr/bin/env bash
# A real 3-node cluster on loopback, used through curl: the seed's transcript, latency of
# a 404 and a remote read, a 1 MiB value, deletes, malformed requests, a graceful restart
# and a kill -9. Usage: cluster_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

# Ports of their own, so this test can run beside the others.
start_node a 19876 17946 --no-mdns
start_node b 19877 17947 --no-mdns --join 127.0.0.1:17946
start_node c 19878 17948 --no-mdns --join 127.0.0.1:17946
for port in 19876 19877 19878; do
  wait_for 15 "node :$port sees 3 alive members" sees $port alive 3
done

echo "# the seed's transcript"
expect "POST foo=bar on a" "200 " "$(http POST 19876 /foo -d bar)"
expect "POST foo=baz on b" "200 " "$(http POST 19877 /foo -d baz)"
# a holds its own write of foo: its copy goes with b's invalidation, asynchronously (README,
# "Cluster reads are fresh"), so it may answer bar for a millisecond or so.
foo_on_a() { [ "$(http GET 19876 /foo)" = "200 baz" ]; }
wait_for 2 "GET foo on a" foo_on_a
expect "GET foo on b" "200 baz" "$(http GET 19877 /foo)"
expect "GET unknown key" "404 " "$(http GET 19876 /no-such-key)"

echo "# latency on loopback (the original: 3.2 s for a 404)"
t404=$(curl -s -o /dev/null -w '%{time_total}' http://127.0.0.1:19878/never-written)
http POST 19876 /remote-key -d remote-value >/dev/null
tremote=$(curl -s -o "$work/body" -w '%{time_total}' http://127.0.0.1:19878/remote-key)
expect "remote GET returns the value" "remote-value" "$(cat "$work/body")"
echo "  404 took ${t404}s, remote GET took ${tremote}s"
expect "the second read is a local copy" "200 remote-value" "$(http GET 19878 /remote-key)"
fast=$(curl -s -m 5 http://127.0.0.1:19878/_cluster/metrics | awk '$1 == "ckv_gets_fast_total" { print $2 }')
[ "${fast:-0}" -ge 1 ] && pass "local copies are served without the kernel ($fast fast hits)" ||
  fail "no fast local hit counted (ckv_gets_fast_total=${fast:-missing})"
# The record cache takes a key at its second read miss: the fourth read is a hit.
for i in 1 2 3; do http GET 19878 /remote-key >/dev/null; done
hits=$(curl -s -m 5 http://127.0.0.1:19878/_cluster/metrics |
  awk '$1 == "ckv_record_cache_lookups_total{result=\"hit\"}" { print $2 }')
[ "${hits:-0}" -ge 1 ] && pass "reads of a hot key hit the record cache ($hits hits)" ||
  fail "no record cache hit counted (ckv_record_cache_lookups_total hit=${hits:-missing})"
awk -v t="$t404" 'BEGIN { exit !(t < 0.25) }' && pass "404 well under a second" ||
  fail "404 took ${t404}s"
awk -v t="$tremote" 'BEGIN { exit !(t < 0.25) }' && pass "remote GET well under a second" ||
  fail "remote GET took ${tremote}s"

echo "# a 1 MiB value written on a, read on c"
head -c 1048576 /dev/urandom > "$work/big"
expect "POST 1 MiB on a" "200 " "$(http POST 19876 /big --data-binary @"$work/big")"
curl -s -m 10 -o "$work/big.read" http://127.0.0.1:19878/big
cmp -s "$work/big" "$work/big.read" && pass "1 MiB read intact on c" || fail "1 MiB value differs on c"
etag=$(curl -s -m 5 -I http://127.0.0.1:19878/big | tr -d '\r' | sed -n 's/^ETag: //Ip')
[ -n "$etag" ] && pass "HEAD answers an ETag ($etag)" || fail "HEAD has no ETag"
len=$(curl -s -m 5 -I http://127.0.0.1:19878/big | tr -d '\r' | sed -n 's/^Content-Length: //Ip')
expect "HEAD gives the value's length" 1048576 "$len"

echo "# delete"
expect "DELETE foo on b" "200 " "$(http DELETE 19877 /foo)"
foo_gone_on_a() { [ "$(http GET 19876 /foo)" = "404 " ]; }  # (a's copy: as above)
wait_for 2 "GET foo on :19876 after delete" foo_gone_on_a
for port in 19877 19878; do expect "GET foo on :$port after delete" "404 " "$(http GET $port /foo)"; done
expect "DELETE of an absent key" "404 " "$(http DELETE 19876 /foo)"

echo "# bad requests get 4xx and the node keeps serving"
expect "unknown method" 405 "$(status BREW 19876 /foo)"
expect "bad percent-encoding" 400 "$(status GET 19876 /bad%zzkey)"
expect "empty key" 400 "$(status GET 19876 /)"
expect "reserved key prefix" 400 "$(status POST 19876 /%5Fcluster/x -d v)"
expect "key over 1 KiB" 400 "$(status GET 19876 /$(head -c 1100 /dev/zero | tr '\0' k))"
expect "bad timeout" 400 "$(status GET 19876 '/foo?timeout=soon')"
expect "huge header" 431 "$(status GET 19876 /foo -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' x)")"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero > "$work/huge"
expect "body over 16 MiB" 413 "$(status POST 19876 /huge --data-binary @"$work/huge")"
reply=$(exec 3<>/dev/tcp/127.0.0.1/19876; printf 'THIS IS NOT HTTP\r\n\r\n' >&3; timeout 5 head -c 12 <&3)
expect "garbage request line" "HTTP/1.1 400" "$reply"
expect "still serving after bad input" "200 " "$(http POST 19876 /after -d ok)"
# Pipelining: three requests in one write, three answers in order on one connection.
replies=$(exec 3<>/dev/tcp/127.0.0.1/19876
  printf 'POST /piped HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nv1GET /piped HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
  timeout 5 cat <&3 | grep -oE 'HTTP/1\.1 [0-9]{3}|v1' | tr '\n' ' ')
expect "pipelined requests answered in order" "HTTP/1.1 200 HTTP/1.1 200 v1 HTTP/1.1 404 " "$replies"
# A body split across reads: the header and half the body, a pause, then the rest (the
# server reads the body on its own after the header, instead of with it).
replies=$(exec 3<>/dev/tcp/127.0.0.1/19876
  printf 'POST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nfirst' >&3
  sleep 0.3
  printf ',half' >&3
  printf 'GET /split HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
  timeout 5 cat <&3 | grep -oE 'HTTP/1\.1 [0-9]{3}|first,half' | tr '\n' ' ')
expect "a body split across reads is read whole" "HTTP/1.1 200 HTTP/1.1 200 first,half " "$replies"
expect "unknown cluster endpoint" 404 "$(status GET 19876 /_cluster/nothing)"
curl -s -m 5 http://127.0.0.1:19876/_cluster/metrics | grep -q '^ckv_http_requests_total{route="key",method="GET",status="200"}' &&
  pass "metrics count requests" || fail "metrics lack request counts"
curl -s -m 5 http://127.0.0.1:19876/_cluster/health | grep -q '"status":"ok"' &&
  pass "health answers ok" || fail "health is not ok"

echo "# graceful restart of c: data kept, nothing deleted comes back, rejoins without --join"
expect "POST kept=1 on c" "200 " "$(http POST 19878 /kept -d 1)"
expect "POST doomed on c" "200 " "$(http POST 19878 /doomed -d x)"
expect "DELETE doomed on c" "200 " "$(http DELETE 19878 /doomed)"
stop_node c TERM
expect "c exits 0 on SIGTERM" 0 $?
wait_for 10 "a sees c as left" sees 19876 left 1
start_node c 19878 17948 --no-mdns
wait_for 15 "c rejoins its saved peers" sees 19878 alive 3
wait_for 10 "a sees c alive again" sees 19876 alive 3
expect "c still has kept" "200 1" "$(http GET 19878 /kept)"
expect "doomed stays deleted on c" "404 " "$(http GET 19878 /doomed)"
expect "a reads kept from c" "200 1" "$(http GET 19876 /kept)"

echo "# kill -9 of b: the others mark it failed; its restart rejoins"
stop_node b KILL
wait_for 20 "a marks b failed" sees 19876 dead 1
start_node b 19877 17947 --no-mdns
wait_for 15 "b rejoins" sees 19876 alive 3
expect "b still serves baz-free foo" "404 " "$(http GET 19877 /foo)"
curl -s -m 10 -o "$work/big.b" http://127.0.0.1:19877/big
cmp -s "$work/big" "$work/big.b" && pass "b reads the 1 MiB value intact after its restart" || fail "b reads a different big value"

finish
