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

TEST(Version, ParseReadsBackWhatToStringWrote) {
  for (const Version& v : {Version{}, Version{1767225600000000, 3, 0x21d598182b5b85e5},
                           Version{UINT64_MAX, UINT32_MAX, UINT64_MAX}}) {
    Version parsed;
    ASSERT_TRUE(parse_version(to_string(v), parsed)) << to_string(v);
    EXPECT_EQ(parsed, v);
  }
}

TEST(Version, ParseRefusesAnythingElse) {
  Version v;
  for (const char* bad :
       {"", "1.2", "1.2@", "1.2@21d598182b5b85e", "1.2@21D598182B5B85E5", "1.2@21d598182b5b85e5x",
        ".2@21d598182b5b85e5", "1.@21d598182b5b85e5", "18446744073709551616.0@0000000000000000",
        "1.4294967296@0000000000000000", "1 .2@21d598182b5b85e5", "\"1.2@21d598182b5b85e5\""}) {
    EXPECT_FALSE(parse_version(bad, v)) << bad;
  }
}

}  // namespace
}  // namespace ckv
