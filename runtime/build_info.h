// What build this binary is: the project version, `git describe` of the source it was built
// from ("unknown" outside a git checkout) and the CMake build type. Generated at every build
// (tools/cmake/build_info.cmake), so `cluster-kv --version` and the start-up log line name
// the exact commit, "-dirty" when the tree had uncommitted changes.
#pragma once

#include <string_view>

namespace ckv {

std::string_view build_version();   // "0.1.0"
std::string_view build_describe();  // "32e9787", "v0.1.0-3-g32e9787-dirty"
std::string_view build_type();      // "Release", "Asan", ...

}  // namespace ckv
