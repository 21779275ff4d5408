#!/usr/bin/env bash
# Configures and builds one build type into build/<type>:
#   tools/build.sh release   optimised; the simulator CLI and benchmarks (default)
#   tools/build.sh debug     unoptimised, with debug info
#   tools/build.sh asan      AddressSanitizer + UBSan, for the test suite (no benchmarks)
#   tools/build.sh fuzz      the libFuzzer targets only, built with clang++-14 under
#                            ASan + UBSan (tools/fuzz.sh runs them)
# Needs the packages tools/setup.sh installs. CKV_BUILD_JOBS sets the parallel jobs (2).
set -euo pipefail
cd "$(dirname "$0")/.."

type=${1:-release}
targets=()
case "$type" in
  release) build_type=Release; extra=() ;;
  debug) build_type=Debug; extra=() ;;
  asan) build_type=Asan; extra=(-DCKV_BUILD_BENCH=OFF) ;;
  fuzz)
    build_type=Fuzz
    extra=(-DCMAKE_CXX_COMPILER=clang++-14 -DCKV_BUILD_FUZZ=ON -DCKV_BUILD_TESTS=OFF
      -DCKV_BUILD_BENCH=OFF)
    targets=(--target fuzzers)
    ;;
  *) echo "usage: tools/build.sh [release|debug|asan|fuzz]" >&2; exit 2 ;;
esac

cmake -S . -B "build/$type" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${extra[@]}" > /dev/null
cmake --build "build/$type" -j "${CKV_BUILD_JOBS:-2}" "${targets[@]}"
