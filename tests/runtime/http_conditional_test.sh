#!/usr/bin/env bash
# Conditional reads on a real 2-node cluster through curl (RFC 9110 section 13): a value's
# ETag and Last-Modified; If-None-Match -> 304 (no body, the same ETag), on a local hit and
# on another node's first, remote, read; If-Match that fails -> 412; If-Modified-Since;
# a conditional write -> 501 (compare-and-set is not built yet).
# Usage: http_conditional_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

start_node a 19985 17985 --no-mdns
start_node b 19986 17986 --no-mdns --join 127.0.0.1:17985
for port in 19985 19986; do
  wait_for 15 "node :$port sees 2 alive members" sees $port alive 2
done

headers() {  # headers METHOD PORT PATH [curl args...]: status line and header lines
  local method=$1 port=$2 path=$3
  shift 3
  curl -s -m 10 -o /dev/null -D - -X "$method" "$@" "http://127.0.0.1:$port$path" | tr -d '\r'
}
field() { sed -n "s/^$1: //Ip"; }  # field NAME < headers: its value
code() { head -1 | awk '{ print $2 }'; }

expect "POST" "200 " "$(http POST 19985 /c -d one)"
h=$(headers GET 19985 /c)
etag=$(field ETag <<<"$h")
modified=$(field Last-Modified <<<"$h")
[ -n "$etag" ] && pass "a value has an ETag ($etag)" || fail "no ETag: $h"
[[ $modified =~ ^[A-Z][a-z]{2},\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9:]{8}\ GMT$ ]] \
  && pass "and a Last-Modified ($modified)" || fail "Last-Modified: '$modified'"

echo "# If-None-Match"
h=$(headers GET 19985 /c -H "If-None-Match: $etag")
expect "the current ETag: 304" "304" "$(code <<<"$h")"
expect "a 304 carries the ETag" "$etag" "$(field ETag <<<"$h")"
expect "and no Content-Length" "" "$(field Content-Length <<<"$h")"
expect "and no body" "304 " "$(http GET 19985 /c -H "If-None-Match: $etag")"
expect "HEAD too" "304" "$(headers HEAD 19985 /c -H "If-None-Match: $etag" | code)"
expect "on b's first read, from the cluster" "304" \
  "$(headers GET 19986 /c -H "If-None-Match: \"x\", $etag" | code)"
expect "another ETag: the value" "200 one" "$(http GET 19985 /c -H 'If-None-Match: "x"')"
expect "W/ compares weakly" "304" "$(headers GET 19986 /c -H "If-None-Match: W/$etag" | code)"
expect "*" "304" "$(headers GET 19986 /c -H 'If-None-Match: *' | code)"

echo "# If-Match"
h=$(headers GET 19985 /c -H 'If-Match: "x"')
expect "another ETag: 412" "412" "$(code <<<"$h")"
expect "with the current ETag" "$etag" "$(field ETag <<<"$h")"
expect "the current ETag: the value" "200 one" "$(http GET 19986 /c -H "If-Match: $etag")"
expect "a key nobody holds, If-Match *: 412" "412" "$(status GET 19985 /nothing -H 'If-Match: *')"
expect "If-None-Match *: 404" "404" "$(status GET 19985 /nothing -H 'If-None-Match: *')"

echo "# If-Modified-Since"
expect "at Last-Modified: 304" "304" "$(status GET 19985 /c -H "If-Modified-Since: $modified")"
expect "long before: the value" "200" \
  "$(status GET 19985 /c -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT')"
expect "not a date: ignored" "200" "$(status GET 19985 /c -H 'If-Modified-Since: yesterday')"

echo "# conditional writes: refused until compare-and-set exists"
expect "PUT with If-Match" "501" "$(status PUT 19985 /c -d x -H "If-Match: $etag")"
expect "DELETE with If-None-Match" "501" "$(status DELETE 19985 /c -H 'If-None-Match: *')"
expect "nothing was written" "200 one" "$(http GET 19985 /c)"

echo "# a new write changes the answer"
expect "POST again" "200 " "$(http POST 19986 /c -d two)"
sleep 0.2
expect "the old ETag no longer matches" "200 two" "$(http GET 19985 /c -H "If-None-Match: $etag")"
finish
