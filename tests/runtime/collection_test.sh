#!/usr/bin/env bash
# Collection on a real 2-node cluster on loopback, with --tombstone-ttl 6s: keys written,
# read on the other node and deleted are gone from both stores once the horizon has
# passed (tombstones on the writer, markers on the reader), reads still answer 404, the
# writer's data directory shrinks back (RocksDB compaction included), a value without a
# TTL stays; and a node down for more than half the horizon drops its old records when
# it is back, its own writes too (the trade-off the README states).
# Usage: collection_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need du awk

start_node a 19980 17980 --no-mdns --tombstone-ttl 6s
start_node b 19981 17981 --no-mdns --tombstone-ttl 6s --join 127.0.0.1:17980
for port in 19980 19981; do
  wait_for 15 "node :$port sees 2 alive members" sees $port alive 2
done

metric() {  # metric PORT NAME: the value of an unlabelled metric
  curl -s -m 10 "http://127.0.0.1:$1/_cluster/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
at_least() { [ "$(metric "$1" "$2")" -ge "$3" ] 2>/dev/null; }  # at_least PORT NAME N
data_bytes() {  # data_bytes NAME: the data directory's size, without RocksDB's text logs
  du -sb --exclude='LOG*' "$work/$1" | awk '{ print $1 }'
}

head -c 40000 /dev/zero | tr '\0' 'v' > "$work/value"
expect "a value without a TTL" "200 " "$(http POST 19980 /keep -d kept)"
expect "b's own write" "200 " "$(http POST 19981 /b-own -d mine)"
echo "# 120 keys of 40 kB written on a, 30 of them read on b, then all deleted on a"
bad=0
for i in $(seq 1 120); do
  [ "$(status POST 19980 "/k$i" --data-binary @"$work/value")" == 200 ] || bad=$((bad + 1))
done
expect "120 writes" 0 "$bad"
for i in $(seq 1 30); do
  [ "$(status GET 19981 "/k$i")" == 200 ] || bad=$((bad + 1))
done
expect "30 reads on b" 0 "$bad"
for i in $(seq 1 120); do
  [ "$(status DELETE 19980 "/k$i")" == 200 ] || bad=$((bad + 1))
done
expect "120 deletes" 0 "$bad"
before=$(data_bytes a)
echo "a's data directory after the deletes: $before bytes"

echo "# past the horizon"
wait_for 60 "a collected its 120 tombstones" at_least 19980 ckv_records_collected_total 120
wait_for 30 "b collected its 30 markers" at_least 19981 ckv_records_collected_total 30
expect "a deleted key on a" "404" "$(status GET 19980 /k7)"
expect "a deleted key on b" "404" "$(status GET 19981 /k7)"
expect "the value without a TTL on b" "200 kept" "$(http GET 19981 /keep)"
shrunk() { [ "$(data_bytes a)" -lt $((before / 4)) ]; }
wait_for 60 "a's data directory shrank below a quarter of $before bytes" shrunk
echo "a's data directory now: $(data_bytes a) bytes"

echo "# b down for 5 s, more than half the horizon"
stop_node b
sleep 5
start_node b 19981 17981 --no-mdns --tombstone-ttl 6s --join 127.0.0.1:17980
wait_for 15 "b is back" sees 19980 alive 2
dropped() { grep -q "dropped its records older than three quarters" "$work/b.log"; }
wait_for 15 "b says it dropped its old records" dropped
expect "b's old own write is gone" "404" "$(status GET 19980 /b-own)"
expect "a still serves its value without a TTL" "200 kept" "$(http GET 19980 /keep)"
finish
