# A small virtual LAN for tests of real cluster-kv processes: hosts are network namespaces
# (ckv-h1, ckv-h2, ...) whose veth links meet at a Linux bridge living in a namespace of its
# own (ckv-br); host N has the address $net_prefix.N on its interface eth0. Each host runs
# its own system D-Bus and its own avahi-daemon, so mDNS works between hosts as on a LAN and
# never touches the machine's real interfaces.
#
# Source it after lib.sh (which sets `work`, pass/fail/expect/wait_for). Needs root, iproute2
# (ip netns, bridge and veth links), util-linux's unshare, dbus-daemon, dbus-send,
# avahi-daemon and curl; `net_require` fails loudly when something is missing.
#
# Every process started is recorded by pid in host_pid; `net_teardown` (for the EXIT trap)
# ends them, deletes the namespaces and removes the scratch directory. `net_cleanup` also
# clears what a run killed before its trap ran left behind: processes inside ckv-*
# namespaces, the namespaces, and the scratch directory named in $net_state.
set -u

net_prefix=10.213.0
net_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)  # for tools/avahi_loopback.sh
net_state=/tmp/ckv-netns.state  # names the scratch directory of the run in progress
declare -A host_pid=()          # "hN/what" -> pid of a process this script started

net_require() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAILED: this test needs root (network namespaces, a bridge, system D-Bus and avahi-daemon)"
    exit 1
  fi
  local c
  for c in ip unshare dbus-daemon dbus-send avahi-daemon curl; do
    command -v "$c" >/dev/null 2>&1 ||
      { echo "FAILED: this test needs '$c' (tools/setup.sh installs it)"; exit 1; }
  done
}

# Kills every process still inside a ckv-* namespace and deletes those namespaces, then the
# scratch directory an earlier run left behind. Used before starting and on exit.
net_cleanup() {
  local ns pids dir
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^ckv-/ { print $1 }'); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  if [ -f "$net_state" ]; then
    dir=$(cat "$net_state")
    case "$dir" in /tmp/ckv-test.*) [ "$dir" != "$work" ] && rm -rf "$dir" ;; esac
    rm -f "$net_state"
  fi
}

# Ends what this run started (gracefully, then by force), then removes every trace.
net_teardown() {
  local key p
  for key in "${!host_pid[@]}"; do kill -TERM "${host_pid[$key]}" 2>/dev/null; done
  for key in "${!host_pid[@]}"; do
    p=${host_pid[$key]}
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  host_pid=()
  net_cleanup
  rm -rf "$work"
}

# net_up HOSTS: the bridge namespace and HOSTS host namespaces, linked and addressed.
net_up() {
  local hosts=$1 n h
  echo "$work" > "$net_state"
  ip netns add ckv-br || return 1
  ip -n ckv-br link set lo up
  # No multicast snooping: mDNS must reach every port without IGMP bookkeeping.
  ip -n ckv-br link add br0 type bridge mcast_snooping 0 forward_delay 0 || return 1
  ip -n ckv-br link set br0 up
  for n in $(seq "$hosts"); do
    h=ckv-h$n
    ip netns add $h || return 1
    # IPv4 only: no IPv6 link-local addresses for avahi to announce.
    ip netns exec $h sh -c 'for c in all default; do echo 1 > /proc/sys/net/ipv6/conf/$c/disable_ipv6; done'
    ip -n $h link set lo up
    ip -n $h link add eth0 type veth peer name vh$n netns ckv-br || return 1
    ip -n $h addr add $net_prefix.$n/24 dev eth0
    ip -n $h link set eth0 multicast on up
    ip -n ckv-br link set vh$n master br0 multicast on up
  done
}

link_down() { ip -n ckv-br link set "vh$1" down; }  # link_down N: cut host N off the bridge
link_up() { ip -n ckv-br link set "vh$1" up; }

# services_up N: host N's own system bus (socket $work/hN/bus, which avahi-daemon and the
# nodes find through DBUS_SYSTEM_BUS_ADDRESS) and avahi-daemon. The daemon runs in a private
# mount namespace with a tmpfs on /run, so its pid file and socket in /run/avahi-daemon do
# not meet the other hosts' daemons or the machine's own.
services_up() {
  local n=$1 dir=$work/h$1
  mkdir -p "$dir"
  chmod 755 "$work" "$dir"  # the daemons' users must reach the bus socket
  ip netns exec ckv-h$n dbus-daemon --system --nofork --nopidfile --nosyslog \
    --address="unix:path=$dir/bus" >"$dir/dbus.out" 2>&1 &
  host_pid[h$n/dbus]=$!
  "$net_repo/tools/avahi_loopback.sh" config eth0 "ckv-h$n" > "$dir/avahi-daemon.conf"
  for _ in $(seq 50); do [ -S "$dir/bus" ] && break; sleep 0.1; done
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus" ip netns exec ckv-h$n \
    unshare --mount --propagation private sh -c \
    'mount -t tmpfs -o mode=755 ckv-run /run && mkdir /run/avahi-daemon &&
     exec avahi-daemon --no-chroot --no-rlimits -f "$1"' sh "$dir/avahi-daemon.conf" \
    >"$dir/avahi.out" 2>&1 &
  host_pid[h$n/avahi]=$!
}

# avahi_running N: host N's avahi-daemon is on its bus and has established its host name.
avahi_running() {
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/h$1/bus" dbus-send --system --print-reply \
    --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetState 2>/dev/null |
    grep -q 'int32 2'
}

# start_host_node N NAME HTTP_PORT GOSSIP_PORT [flags...]: a node on host N, gossip on the
# host's address, HTTP on the host's loopback; data in $work/NAME, log in $work/NAME.log.
start_host_node() {
  local n=$1 name=$2 http=$3 gossip=$4
  shift 4
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/h$n/bus" ip netns exec ckv-h$n \
    "$bin" --node-name "$name" --http "127.0.0.1:$http" --gossip "$net_prefix.$n:$gossip" \
    --data-dir "$work/$name" --log-level debug "$@" >>"$work/$name.log" 2>&1 &
  host_pid[$name]=$!
}

# stop_host_node NAME [SIGNAL]: signals the node and waits for it to end.
stop_host_node() {
  local name=$1
  ckv_signal_and_wait "${host_pid[$name]}" "${2:-TERM}"
  local rc=$?
  unset "host_pid[$name]"
  return $rc
}

# hcurl N [curl args...]: curl run on host N (so 127.0.0.1 is that host's loopback).
hcurl() {
  local n=$1
  shift
  ip netns exec ckv-h$n curl -s -m 10 "$@"
}

# members_on N PORT STATE: how many members the node on host N sees in STATE
members_on() {
  hcurl "$1" -m 5 "http://127.0.0.1:$2/_cluster/members" | grep -o "\"state\":\"$3\"" | wc -l
}

# hkv N PORT METHOD KEY [curl args...]: prints "STATUS ETAG BODY" (ETag without its quotes,
# "-" when absent) of a key request to the node at PORT on host N.
hkv() {
  local n=$1 port=$2 method=$3 key=$4 code etag
  shift 4
  rm -f "$work/headers" "$work/body"
  code=$(hcurl "$n" -X "$method" -D "$work/headers" -o "$work/body" -w '%{http_code}' "$@" \
    "http://127.0.0.1:$port/$key")
  etag=$(tr -d '\r"' < "$work/headers" 2>/dev/null | sed -n 's/^etag: //Ip')
  echo "$code ${etag:--} $(cat "$work/body" 2>/dev/null)"
}

# version_newer A B: whether version A ("<wall us>.<counter>@<16 hex digits of node id>",
# the ETag) is higher than B. Ordered by wall time, then counter, then node id.
version_newer() {
  local aw=${1%%.*} bw=${2%%.*} ac=${1#*.} bc=${2#*.}
  ac=${ac%@*} bc=${bc%@*}
  [ "$aw" != "$bw" ] && { [ "$aw" -gt "$bw" ]; return; }
  [ "$ac" != "$bc" ] && { [ "$ac" -gt "$bc" ]; return; }
  [[ "${1#*@}" > "${2#*@}" ]]
}

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }  # ms_since START_NS
