#!/usr/bin/env bash
# Three nodes started without --join find each other through a real avahi-daemon on
# loopback; a node of another cluster is not joined. Starts dbus and avahi-daemon itself
# (restricted to loopback) and stops what it started. Needs root: it fails, not skips,
# without it. Usage: mdns_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
need avahi-daemon dbus-daemon

trap 'stop_all_nodes
      "$root/tools/avahi_loopback.sh" stop "$work/services"; rm -rf "$work"' EXIT
"$root/tools/avahi_loopback.sh" start "$work/services" || { echo "FAILED: could not start avahi-daemon"; exit 1; }

start=$(date +%s%N)
start_node m1 29876 27946 --cluster mdns-test --tag role=cache
start_node m2 29877 27947 --cluster mdns-test
start_node m3 29878 27948 --cluster mdns-test
start_node stranger 29879 27949 --cluster another-cluster
for port in 29876 29877 29878; do
  wait_for 20 "node :$port finds the other two by mDNS" sees $port alive 3
done
echo "  cluster formed $(( ($(date +%s%N) - start) / 1000000 )) ms after the first start"
expect "the stranger stays alone" 1 "$(members_in 29879 alive)"
expect "POST on m1" "200 " "$(http POST 29876 /found -d yes)"
expect "GET on m3" "200 yes" "$(http GET 29878 /found)"
grep -q "mDNS found" "$work/m2.log" && pass "m2 logged its mDNS discovery" || fail "m2 never logged an mDNS discovery"
need avahi-browse
timeout 10 avahi-browse -rpt _cluster-kv._udp > "$work/browse" 2>&1
grep -q '"tag.role=cache"' "$work/browse" && pass "m1 publishes its tag in its mDNS TXT record" ||
  fail "no tag.role=cache in the TXT records: $(head -c 600 "$work/browse")"
expect "m3 holds m1's tag through gossip" cache \
  "$(curl -s http://127.0.0.1:29878/_cluster/members | jq -r '.members[] | select(.name == "m1") | .tags.role')"
for n in m1 m2 m3 stranger; do stop_node $n TERM; done
finish
