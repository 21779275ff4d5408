#include "kernel/kv/version.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ckv {
namespace {

TEST(Version, TextIsWallDotLogicalAtNodeHex) {
  EXPECT_EQ(to_string(Version{1795737178431447, 3, 0xe6f5e0c51767fff2}),
            "1795737178431447.3@e6f5e0c51767fff2");
  EXPECT_EQ(to_string(Version{}), "0.0@0000000000000000");
}

TEST(Version, TheLongestTextFits) {
  EXPECT_EQ(to_string(Version{UINT64_MAX, UINT32_MAX, UINT64_MAX}),
            "18446744073709551615.4294967295@ffffffffffffffff");
}

TEST(Version, AppendKeepsWhatIsThere) {
  std::string out = "\"";
  append_version(out, Version{12, 0, 0xab});
  out += '"';
  EXPECT_EQ(out, "\"12.0@00000000000000ab\"");
}

}  // namespace
}  // namespace ckv
