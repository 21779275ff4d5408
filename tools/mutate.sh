#!/usr/bin/env bash
# Mutation testing of the simulator: plants each bug of tools/mutations.txt in kernel/ (one
# at a time, a one-line change), rebuilds the simulator tests incrementally, runs them as
# CI does (its rapidcheck seed and case count, without shrinking) and reports which
# simulator properties catch the bug and at which case. Unit tests are not run: the
# question is what the simulator sees. The tree is restored after each bug, and on exit.
#
#   tools/mutate.sh [--list FILE] [--build-dir DIR] [--first] [ID...]
#
# With IDs, only those bugs. --first stops each bug's run at the first failing test (a
# full run then takes about an hour instead of three; the table names that test only).
# Needs a configured Release build (tools/build.sh release); prints a Markdown table and
# "caught X of N" last. Exit status 0 unless the unmutated
# tree fails, a bug does not apply, or the tree could not be restored.
set -euo pipefail
cd "$(dirname "$0")/.."

list=tools/mutations.txt
build=build/release
only=()
first=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --list) list=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --first) first=(--gtest_fail_fast); shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutate.sh: unknown option $1" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done
[[ -f "$list" ]] || { echo "mutate.sh: no list $list" >&2; exit 2; }
[[ -f "$build/build.ninja" ]] ||
  { echo "mutate.sh: $build is not configured; run tools/build.sh release first" >&2; exit 2; }

# The same rapidcheck parameters as CI's Release run (tests/CMakeLists.txt).
rc_seed=$(sed -n 's/^set(CKV_RC_SEED \([0-9]*\))$/\1/p' tests/CMakeLists.txt)
rc_cases=$(sed -n '/CMAKE_BUILD_TYPE STREQUAL "Asan"/,/endif/{/else/,/endif/s/.*CKV_SIM_CASES \([0-9]*\).*/\1/p}' tests/CMakeLists.txt)
[[ -n "$rc_seed" && -n "$rc_cases" ]] || { echo "mutate.sh: cannot read CI's rapidcheck seed" >&2; exit 2; }
export RC_PARAMS="max_success=$rc_cases seed=$rc_seed noshrink=1"

work=$(mktemp -d)
backup=""
target=""
restore() {
  if [[ -n "$backup" ]]; then cp "$backup" "$target" && backup=""; fi
}
trap 'restore; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# Parses the list into records: id, file, description, old, new (one file per field).
count=0
parse() {
  local line id="" file="" desc="" old="" new=""
  flush() {
    [[ -z "$id" ]] && return
    if [[ -z "$old" || -z "$new" ]]; then
      echo "mutate.sh: $id has no '- old' or '+ new' line" >&2; exit 2
    fi
    count=$((count + 1))
    local d="$work/m$count"
    mkdir -p "$d"
    printf '%s' "$id" > "$d/id"; printf '%s' "$file" > "$d/file"; printf '%s' "$desc" > "$d/desc"
    printf '%s' "$old" > "$d/old"; printf '%s' "$new" > "$d/new"
    id="" file="" desc="" old="" new=""
  }
  while IFS= read -r line || [[ -n "$line" ]]; do
    case "$line" in
      '#'* | '') continue ;;
      '@ '*) flush; read -r _ id file <<< "$line" ;;
      '- '*) old=${line#- } ;;
      '+ '*) new=${line#+ } ;;
      *) desc=$line ;;
    esac
  done < "$list"
  flush
}
parse

selected() {
  [[ ${#only[@]} -eq 0 ]] && return 0
  local x
  for x in "${only[@]}"; do [[ "$x" == "$1" ]] && return 0; done
  return 1
}

# Runs the simulator tests; writes "Suite.Test case-N" (or "Suite.Test failed") per
# failing test to $1 and returns the number of failing tests.
run_sim_tests() {
  local out=$1
  timeout --foreground 600 "$build/tests/sim_tests" --gtest_color=no "${first[@]}" > "$work/log" 2>&1 || true
  awk '
    /^\[ RUN      \]/ { test = $4; falsified = "" }
    /Falsifiable after [0-9]+ test/ { for (i = 1; i <= NF; i++) if ($i == "after") falsified = $(i + 1) }
    /^\[  FAILED  \] .* \([0-9]+ ms\)$/ {
      print $4 " " (falsified != "" ? "case-" falsified : "failed")
    }
  ' "$work/log" > "$out"
  if ! grep -q '^\[  PASSED  \]\|^\[  FAILED  \]' "$work/log"; then
    echo "sim_tests crashed or timed out" > "$out"
  fi
  wc -l < "$out"
}

build_sim_tests() {
  cmake --build "$build" --target sim_tests -j "${CKV_BUILD_JOBS:-2}" > "$work/build.log" 2>&1
}

echo "mutate.sh: ${count} bugs in $list; sim_tests with RC_PARAMS=\"$RC_PARAMS\"" >&2
build_sim_tests || { cat "$work/build.log" >&2; echo "mutate.sh: the tree does not build" >&2; exit 1; }
if [[ $(run_sim_tests "$work/base") -ne 0 ]]; then
  cat "$work/base" >&2; echo "mutate.sh: the simulator tests fail without any bug planted" >&2; exit 1
fi

echo "| bug | planted in | caught by (first case that failed) |"
echo "|---|---|---|"
caught=0 tried=0 status=0
for ((i = 1; i <= count; i++)); do
  d="$work/m$i"
  id=$(< "$d/id")
  selected "$id" || continue
  target=$(< "$d/file")
  if [[ ! -f "$target" ]] ||
    [[ $(OLD=$(< "$d/old") perl -0777 -ne 'print scalar(() = /\Q$ENV{OLD}\E/g)' "$target") != 1 ]]; then
    echo "| $id | $target | DOES NOT APPLY: the old text is not there exactly once |"
    status=1
    continue
  fi
  cp "$target" "$work/backup"
  backup="$work/backup"  # only now: restore() must never copy an older file back
  OLD=$(< "$d/old") NEW=$(< "$d/new") perl -0777 -i -pe 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$target"
  tried=$((tried + 1))
  echo "mutate.sh: [$tried] $id" >&2
  if ! build_sim_tests; then
    result="DOES NOT COMPILE"
    status=1
  elif [[ $(run_sim_tests "$work/result") -eq 0 ]]; then
    result="**missed**"
  else
    caught=$((caught + 1))
    result=$(tr '\n' ',' < "$work/result" | sed 's/,$//; s/,/, /g')
  fi
  restore
  echo "| $id | ${target#kernel/} | $result |"
done
build_sim_tests || { echo "mutate.sh: the restored tree does not build" >&2; exit 1; }
echo
echo "caught $caught of $tried planted bugs by the simulator's properties"
exit $status
