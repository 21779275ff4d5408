#!/usr/bin/env bash
# Fails if anything under the kernel directory ($1, default ./kernel) includes a header
# other than a C++ standard library header or another kernel header, or reaches for a
# clock, global randomness, the environment, threads or the console.
set -euo pipefail
dir=${1:-kernel}

allowed=' algorithm array bit cassert cctype charconv chrono cmath compare concepts cstddef
  cstdint cstdlib cstring deque functional initializer_list iterator limits map memory
  numeric optional set span string string_view tuple type_traits unordered_map
  unordered_set utility variant vector '
allowed=" $(echo $allowed) "  # one space between names, and around them

status=0
while IFS= read -r line; do
  file=${line%%:*}
  rest=${line#*:}
  lineno=${rest%%:*}
  text=${rest#*:}
  if [[ $text =~ \#[[:space:]]*include[[:space:]]*\<([^>]+)\> ]]; then
    header=${BASH_REMATCH[1]}
    if [[ $allowed != *" $header "* ]]; then
      echo "$file:$lineno: kernel includes <$header>, which is not on the allowed standard list" >&2
      status=1
    fi
  elif [[ $text =~ \#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
    header=${BASH_REMATCH[1]}
    if [[ $header != kernel/* ]]; then
      echo "$file:$lineno: kernel includes \"$header\", which is outside kernel/" >&2
      status=1
    fi
  else
    echo "$file:$lineno: unrecognised include: $text" >&2
    status=1
  fi
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include' "$dir" --include='*.h' --include='*.cpp')

forbidden='(system_clock|steady_clock|high_resolution_clock|random_device|std::rand\b|\bsrand\(|getenv|std::cout|std::cerr|printf\(|std::thread|std::mutex|std::time\(|\btime\(nullptr\))'
if grep -rnE "$forbidden" "$dir" --include='*.h' --include='*.cpp' >&2; then
  echo "kernel reads a clock, global randomness or the environment, or prints (above)" >&2
  status=1
fi

if [ $status -eq 0 ]; then echo "kernel purity: ok ($dir)"; fi
exit $status
