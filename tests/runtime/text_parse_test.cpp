#include "runtime/text_parse.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsUnitsAndBareMilliseconds) {
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("250"), milliseconds(250));
  EXPECT_EQ(*parse_duration("2s"), seconds(2));
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("1m"), seconds(60));
  EXPECT_EQ(*parse_duration("100us"), microseconds(100));
  EXPECT_EQ(*parse_duration("1h"), hours(1));
  EXPECT_EQ(*parse_duration("7d", hours(24 * 7)), hours(24 * 7));
  EXPECT_FALSE(parse_duration("8d", hours(24 * 7)).ok());
}

TEST(HttpDate, IsRfc9110ImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ParsesWhatItWritesAndNothingElse) {
  for (int64_t t : {int64_t{0}, int64_t{784111777}, int64_t{1767225600}, int64_t{4102444799}}) {
    EXPECT_EQ(parse_http_date(http_date(t)), t) << http_date(t);
  }
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  for (const char* bad : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nox 1994 08:49:37 GMT",
                          "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
                          "Sun, 0x Nov 1994 08:49:37 GMT"}) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

TEST(ParseDuration, RefusesNonsenseZeroAndHuge) {
  for (const char* bad :
       {"", "ms", "soon", "2h", "1y", "-5ms", "0", "0.0001us", "2 s", "1.2.3s", "99999999s"}) {
    auto r = parse_duration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_FALSE(r.error().detail.empty());
    }
  }
}

TEST(ParseListenAddress, FullPortOnlyAndColonPort) {
  EXPECT_EQ(*parse_listen_address("10.0.0.1:80", 0), (Address{0x0a000001, 80}));
  EXPECT_EQ(*parse_listen_address(":9877", 0x7f000001), (Address{0x7f000001, 9877}));
  EXPECT_EQ(*parse_listen_address("7947", 0), (Address{0, 7947}));
  for (const char* bad : {"", ":", "0", "70000", "1.2.3:80", "1.2.3.4:0", "host:80", "1.2.3.4:"}) {
    EXPECT_FALSE(parse_listen_address(bad, 0).ok()) << bad;
  }
}

TEST(ParseHostPort, NamesAndDefaults) {
  auto a = parse_host_port("node-1.lan:7000", 7946);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "node-1.lan");
  EXPECT_EQ(a->port, 7000);
  auto b = parse_host_port("10.0.0.2", 7946);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 7946);
  EXPECT_FALSE(parse_host_port(":7000", 7946).ok());
  EXPECT_FALSE(parse_host_port("a:b", 7946).ok());
}

}  // namespace
}  // namespace ckv

namespace ckv {
namespace {

TEST(TakeLine, TakesLinesOffOneByOne) {
  std::string_view text = "a\r\n\nlast";
  EXPECT_EQ(take_line(text), "a\r");
  EXPECT_EQ(take_line(text), "");
  EXPECT_EQ(take_line(text), "last");
  EXPECT_TRUE(text.empty());
  std::string_view ends_with_newline = "x\n";
  EXPECT_EQ(take_line(ends_with_newline), "x");
  EXPECT_TRUE(ends_with_newline.empty());
}

}  // namespace
}  // namespace ckv
