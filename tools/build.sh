#!/usr/bin/env bash
# Configures and builds one build type into build/<type>:
#   tools/build.sh release   optimised; the simulator CLI and benchmarks (default)
#   tools/build.sh debug     unoptimised, with debug info
#   tools/build.sh asan      AddressSanitizer + UBSan, for the test suite (no benchmarks)
# Needs the packages tools/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."

type=${1:-release}
case "$type" in
  release) build_type=Release; extra=() ;;
  debug) build_type=Debug; extra=() ;;
  asan) build_type=Asan; extra=(-DCKV_BUILD_BENCH=OFF) ;;
  *) echo "usage: tools/build.sh [release|debug|asan]" >&2; exit 2 ;;
esac

cmake -S . -B "build/$type" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${extra[@]}" > /dev/null
cmake --build "build/$type" -j 2
