// The config file's syntax: settings in order with their line, comments and blanks
// skipped, quotes removed, and every malformed line an error naming the file and line.
#include "runtime/config_file.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "tests/runtime/temp_dir.h"

namespace ckv {
namespace {

TEST(ConfigFile, ReadsSettingsInOrderWithTheirLines) {
  auto settings = parse_config_text(
      "# a comment\n\nnode-name = web1\n  http=0.0.0.0:9876  \r\njoin = a\njoin = b\n"
      "cluster = \" spaced \"\n--sync = true\nempty =\n",
      "c.conf");
  ASSERT_TRUE(settings.ok()) << settings.error().detail;
  ASSERT_EQ(settings->size(), 7u);
  EXPECT_EQ((*settings)[0].name, "node-name");
  EXPECT_EQ((*settings)[0].value, "web1");
  EXPECT_EQ((*settings)[0].where, "c.conf:3");
  EXPECT_EQ((*settings)[1].name, "http");
  EXPECT_EQ((*settings)[1].value, "0.0.0.0:9876");
  EXPECT_EQ((*settings)[1].where, "c.conf:4");
  EXPECT_EQ((*settings)[3].value, "b");
  EXPECT_EQ((*settings)[4].value, " spaced ");
  EXPECT_EQ((*settings)[5].name, "sync");
  EXPECT_EQ((*settings)[6].value, "");
}

TEST(ConfigFile, MalformedLinesNameTheFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  };
  for (const Case& c : {Case{"http = 1\nhttp\n", "c.conf:2: expected 'name = value'"},
                        Case{"Http = 1\n", "c.conf:1: 'Http' is not a setting name"},
                        Case{" = 1\n", "c.conf:1: '' is not a setting name"},
                        Case{"\n\ncluster = \"open\n", "c.conf:3: unbalanced quotes"},
                        Case{"cluster = a\x01"
                             "b\n",
                             "c.conf:1: control character"}}) {
    auto settings = parse_config_text(c.text, "c.conf");
    ASSERT_FALSE(settings.ok()) << c.text;
    EXPECT_EQ(settings.error().detail.rfind(c.expected, 0), 0u) << settings.error().detail;
  }
}

TEST(ConfigFile, ReadsAFileAndRefusesAMissingOne) {
  TempDir dir;
  const std::string path = dir.sub("n.conf");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("log-level = debug\n", f);
  std::fclose(f);
  auto settings = read_config_file(path);
  ASSERT_TRUE(settings.ok());
  ASSERT_EQ(settings->size(), 1u);
  EXPECT_EQ((*settings)[0].where, path + ":1");
  auto missing = read_config_file(dir.sub("none.conf"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("none.conf"), std::string::npos);
}

}  // namespace
}  // namespace ckv
