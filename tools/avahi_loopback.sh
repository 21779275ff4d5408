#!/usr/bin/env bash
# Starts (or stops) the system services mDNS needs, restricted to the loopback interface:
# a system D-Bus and an avahi-daemon that only announces on `lo`, so nothing leaves the
# machine. Whatever it starts it records in STATE_DIR, and `stop` stops exactly that, by
# pid; services that were already running are used and left alone.
#   tools/avahi_loopback.sh start STATE_DIR
#   tools/avahi_loopback.sh stop STATE_DIR
#   tools/avahi_loopback.sh config INTERFACE [HOST_NAME]   prints the daemon's config for
#       one interface (the network-namespace test uses it for its hosts)
# Needs root (the system bus and avahi-daemon are system services). Exits non-zero with a
# line saying what is missing when it cannot start them.
set -u
cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
  echo "usage: tools/avahi_loopback.sh start|stop STATE_DIR" >&2
  exit 2
fi

# config INTERFACE [HOST_NAME]: an avahi-daemon config announcing IPv4 on INTERFACE only,
# over D-Bus, without wide-area, workstation records or reflection.
config() {
  cat <<CONF
[server]
${2:+host-name=$2
}use-ipv4=yes
use-ipv6=no
allow-interfaces=$1
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
CONF
}

if [ "$cmd" = config ]; then
  config "$state" "${3:-}"
  exit 0
fi

bus_up() {
  dbus-send --system --dest=org.freedesktop.DBus --type=method_call --print-reply \
    /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1
}

case "$cmd" in
  start)
    mkdir -p "$state"
    for tool in dbus-daemon dbus-send avahi-daemon; do
      command -v "$tool" >/dev/null 2>&1 ||
        { echo "avahi_loopback: '$tool' is missing (tools/setup.sh installs it)" >&2; exit 1; }
    done
    if avahi-daemon -c 2>/dev/null; then
      echo "avahi_loopback: avahi-daemon already running; using it"
      exit 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
      echo "avahi_loopback: starting dbus and avahi-daemon needs root" >&2
      exit 1
    fi
    if ! bus_up; then
      mkdir -p /run/dbus
      rm -f /run/dbus/pid  # a stale pid file blocks the start
      dbus-daemon --system --fork --print-pid > "$state/dbus.pid" ||
        { echo "avahi_loopback: dbus-daemon did not start" >&2; exit 1; }
      for _ in $(seq 50); do bus_up && break; sleep 0.1; done
    fi
    config lo > "$state/avahi-daemon.conf"
    avahi-daemon -D -f "$state/avahi-daemon.conf" ||
      { echo "avahi_loopback: avahi-daemon did not start" >&2; exit 1; }
    touch "$state/avahi.started"
    for _ in $(seq 50); do avahi-daemon -c 2>/dev/null && break; sleep 0.1; done
    avahi-daemon -c 2>/dev/null || { echo "avahi_loopback: avahi-daemon is not answering" >&2; exit 1; }
    echo "avahi_loopback: dbus and avahi-daemon running on loopback"
    ;;
  stop)
    if [ -f "$state/avahi.started" ]; then
      avahi-daemon -k 2>/dev/null
      for _ in $(seq 50); do avahi-daemon -c 2>/dev/null || break; sleep 0.1; done
      rm -f "$state/avahi.started"
    fi
    if [ -f "$state/dbus.pid" ]; then
      pid=$(cat "$state/dbus.pid")
      kill "$pid" 2>/dev/null
      [ "$(cat /run/dbus/pid 2>/dev/null)" = "$pid" ] && rm -f /run/dbus/pid
      rm -f "$state/dbus.pid"
    fi
    ;;
  *)
    echo "usage: tools/avahi_loopback.sh start|stop STATE_DIR | config INTERFACE [HOST_NAME]" >&2
    exit 2
    ;;
esac
