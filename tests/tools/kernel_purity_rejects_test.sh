#!/usr/bin/env bash
# The kernel purity check must reject a kernel that includes a non-standard header, a
# header from outside kernel/, or reads a clock.
set -u
check=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/kernel"
fail=0
try() {
  printf '%s\n' "$1" > "$dir/kernel/x.h"
  if "$check" "$dir/kernel" >/dev/null 2>&1; then
    echo "purity check accepted: $1"
    fail=1
  fi
}
try '#include <boost/asio.hpp>'
try '#include "runtime/server.h"'
try '#include <thread>'
try '#include <random>'
try 'auto t = std::chrono::steady_clock::now();'
try 'const char* home = getenv("HOME");'
printf '#include <vector>\n#include "kernel/node.h"\n' > "$dir/kernel/x.h"
if ! "$check" "$dir/kernel" >/dev/null 2>&1; then
  echo "purity check rejected a clean kernel"
  fail=1
fi
exit $fail
