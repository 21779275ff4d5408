#include "runtime/log.h"

#include <gtest/gtest.h>

#include <string>

namespace ckv {
namespace {

TEST(Quote, PrintableAsciiAsIsEverythingElseEscaped) {
  EXPECT_EQ(quote("key-1"), "\"key-1\"");
  EXPECT_EQ(quote(std::string("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(quote("new\nline"), "\"new\\x0aline\"");
  EXPECT_EQ(quote("say \"hi\" \\"), "\"say \\x22hi\\x22 \\x5c\"");
  EXPECT_EQ(quote("\x7f\xc3\xa9"), "\"\\x7f\\xc3\\xa9\"");
  EXPECT_EQ(quote(""), "\"\"");
}

TEST(Quote, LongTextIsCutAfter64Bytes) {
  const std::string long_text(100, 'x');
  EXPECT_EQ(quote(long_text), "\"" + std::string(64, 'x') + "...\"");
  EXPECT_EQ(quote(std::string(64, 'y')), "\"" + std::string(64, 'y') + "\"");
}

}  // namespace
}  // namespace ckv
