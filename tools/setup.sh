#!/usr/bin/env bash
# Installs the Debian 12 packages that cluster-kv needs to build and test;
# `tools/setup.sh bench` adds what the load benchmarks use (wrk, and nginx as the
# reference; the benchmark starts its own nginx on a loopback port and stops it).
# Idempotent: packages already present are not touched, and nothing is fetched from
# anywhere but Debian's own archive. Runs as root (or through sudo when it exists).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libgtest-dev librapidcheck-dev libbenchmark-dev
  # the node binary: Asio/Beast, Boost.JSON, Program_options, RocksDB, Avahi, libcrypto
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  librocksdb-dev libavahi-client-dev libssl-dev
  # the node's allocator (tools/build.sh release and debug; not the sanitizer builds)
  libjemalloc-dev
  # running a local cluster and its tests: mDNS daemon, its bus, an HTTP client, a JSON reader,
  # python3 (a watch client that stops reading, in tests/runtime/watch_test.sh)
  avahi-daemon avahi-utils dbus curl iproute2 jq python3
  # certificates for the HTTPS tests (tests/runtime/http_security_test.sh)
  openssl
  # the fuzz build (tools/fuzz.sh): Clang and its libFuzzer and sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # the Debian package and its test (tools/package.sh, tests/packaging/package_test.sh):
  # a fresh Debian root to install it in, systemd-analyze for its unit, man for its man
  # page (dpkg-shlibdeps comes with build-essential's dpkg-dev)
  debootstrap systemd man-db
  # the timeline's rendering test (tests/sim/timeline_render_test.sh): headless Chromium
  chromium
)
if [ "${1:-}" = "bench" ]; then
  packages+=(wrk nginx-light procps python3)  # procps: pgrep (nginx workers); python3: watch_bench
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
