#!/usr/bin/env bash
# Conditional reads on a real 2-node cluster through curl (RFC 9110 section 13): a value's
# ETag and Last-Modified; If-None-Match -> 304 (no body, the same ETag), on a local hit and
# on another node's first, remote, read; If-Match that fails -> 412; If-Modified-Since;
# conditional writes (compare-and-set): If-Match / If-None-Match on PUT, POST and DELETE,
# 412 with the current ETag, and two curl processes racing on the two nodes, 20 times.
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

echo "# a new write changes the answer"
expect "POST again" "200 " "$(http POST 19986 /c -d two)"
# (19985's copy goes with the write's invalidation, asynchronously.)
old_etag_fails_on_a() { [ "$(http GET 19985 /c -H "If-None-Match: $etag")" = "200 two" ]; }
wait_for 2 "the old ETag no longer matches" old_etag_fails_on_a

echo "# conditional writes: decided by the key's owner"
sleep 2.2  # the owners' hand-off wait after joining (KvConfig::cas_handoff)
etag=$(headers GET 19985 /c | field ETag)
expect "PUT If-Match: the current ETag" "200 " "$(http PUT 19985 /c -d three -H "If-Match: $etag")"
# (19986 holds its own copy of "two": it goes with the write's invalidation, unless 19986
# decided the write as the key's owner, which depends on the names' hash.)
three_on_b() { [ "$(http GET 19986 /c)" = "200 three" ]; }
wait_for 2 "the value is written" three_on_b
h=$(headers PUT 19986 /c -d four -H "If-Match: $etag")
expect "again with the old ETag: 412" "412" "$(code <<<"$h")"
etag3=$(field ETag <<<"$h")
expect "the 412 names the current ETag" "$(headers GET 19985 /c | field ETag)" "$etag3"
expect "nothing was written" "200 three" "$(http GET 19985 /c)"
expect "If-None-Match * on a value: 412" "412" "$(status PUT 19986 /c -d x -H 'If-None-Match: *')"
expect "If-None-Match * on a new key: created" "200" "$(status PUT 19986 /new -d x -H 'If-None-Match: *')"
expect "and only once" "412" "$(status POST 19985 /new -d y -H 'If-None-Match: *')"
expect "If-Match * on an absent key: 412" "412" "$(status PUT 19985 /absent -d x -H 'If-Match: *')"
expect "If-Match with a weak ETag never matches" "412" \
  "$(status PUT 19985 /c -d x -H "If-Match: W/$etag3")"
expect "If-Match and If-None-Match together: 400" "400" \
  "$(status PUT 19985 /c -d x -H "If-Match: $etag3" -H 'If-None-Match: *')"
expect "a malformed If-Match: 400" "400" "$(status PUT 19985 /c -d x -H 'If-Match: nope')"
expect "DELETE If-Match: the old ETag, 412" "412" "$(status DELETE 19986 /c -H "If-Match: $etag")"
expect "DELETE If-Match: the current ETag" "200" "$(status DELETE 19986 /c -H "If-Match: $etag3")"
expect "deleted, on the node that took it" "404" "$(status GET 19986 /c)"
# The other node's copy goes with the delete's invalidation: a local hit there is only as
# fresh as the invalidations that reached it (README, "Cluster reads are fresh"), a
# millisecond or so, longer on a loaded machine (CI once read the old value at once).
gone_on_a() { [ "$(status GET 19985 /c)" = 404 ]; }
wait_for 2 "deleted, on the other node too" gone_on_a
expect "create after the delete" "200" "$(status PUT 19985 /c -d again -H 'If-None-Match: *')"

echo "# two clients race on two nodes, from the same ETag: one wins"
wins=0
winner=19985  # read the current ETag where the last round's write won: that node is fresh
for round in $(seq 1 20); do
  cur=$(headers GET $winner /race | field ETag)
  if [ -z "$cur" ]; then cond=(-H 'If-None-Match: *'); else cond=(-H "If-Match: $cur"); fi
  status PUT 19985 /race -d "a$round" "${cond[@]}" > "$work/race_a" &
  racer_a=$!
  status PUT 19986 /race -d "b$round" "${cond[@]}" > "$work/race_b" &
  racer_b=$!
  wait "$racer_a" "$racer_b"
  a=$(cat "$work/race_a") b=$(cat "$work/race_b")
  if [[ "$a $b" == "200 412" || "$a $b" == "412 200" ]]; then
    wins=$((wins + 1))
    [ "$a" = 200 ] && winner=19985 || winner=19986
  else
    fail "round $round: the two racing writes answered $a and $b"
  fi
done
expect "20 rounds, one winner each" "20" "$wins"
finish
