// Conditional reads (runtime/http/conditional.cpp): RFC 9110 section 13 on a node's answer.
#include "runtime/http/conditional.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

Reply value_reply(uint64_t wall_us) {
  Reply r{1, ClientOp::kGet, ReplyStatus::kOk, Version{wall_us, 0, 7}, "v"};
  r.current = true;
  return r;
}

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

TEST(EtagListed, StrongAndWeakComparison) {
  EXPECT_TRUE(etag_listed("\"a\"", "\"a\"", false));
  EXPECT_TRUE(etag_listed(" \"x\" , \"a\"", "\"a\"", false));
  EXPECT_FALSE(etag_listed("\"b\", \"c\"", "\"a\"", true));
  EXPECT_TRUE(etag_listed("W/\"a\"", "\"a\"", /*weak=*/true));
  EXPECT_FALSE(etag_listed("W/\"a\"", "\"a\"", /*weak=*/false));
  EXPECT_TRUE(etag_listed("*", "\"a\"", false));
  EXPECT_TRUE(etag_listed(" * ", "\"a\"", true));
  EXPECT_FALSE(etag_listed("a", "\"a\"", true)) << "an unquoted tag is junk";
  EXPECT_FALSE(etag_listed("\"a", "\"a\"", true));
  EXPECT_FALSE(etag_listed("", "\"a\"", true));
}

TEST(ConditionalRead, IfNoneMatchGivesA304WithTheHeadersOfA200) {
  Reply r = value_reply(1'767'225'600'000'000);
  r.expires_us = 4'102'444'799'000'000;
  HttpConditions c;
  c.if_none_match = "\"other\", " + etag_of(r.version);
  std::optional<HttpResponse> got = conditional_read(c, r);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 304u);
  EXPECT_TRUE(got->body.empty());
  EXPECT_EQ(got->content_type, nullptr);
  EXPECT_EQ(got->etag, etag_of(r.version));
  EXPECT_EQ(header(*got, "Last-Modified"), "Thu, 01 Jan 2026 00:00:00 GMT");
  EXPECT_FALSE(header(*got, "Cache-Control").empty());
  c.if_none_match = "\"other\"";
  EXPECT_FALSE(conditional_read(c, r).has_value()) << "no match: a 200 as usual";
  c.if_none_match = "*";
  EXPECT_EQ(conditional_read(c, r)->status, 304u);
}

TEST(ConditionalRead, AStaleAnswerSaysSoOnIts304) {
  Reply r = value_reply(1'000'000);
  r.current = false;
  HttpConditions c;
  c.if_none_match = etag_of(r.version);
  EXPECT_EQ(header(*conditional_read(c, r), "X-Cluster-KV-Current"), "false");
}

TEST(ConditionalRead, IfModifiedSinceOnlyWithoutIfNoneMatch) {
  const Reply r = value_reply(1'767'225'600'500'000);  // Last-Modified: 00:00:00
  HttpConditions c;
  c.if_modified_since = "Thu, 01 Jan 2026 00:00:00 GMT";
  EXPECT_EQ(conditional_read(c, r)->status, 304u);
  c.if_modified_since = "Wed, 31 Dec 2025 23:59:59 GMT";
  EXPECT_FALSE(conditional_read(c, r).has_value()) << "modified since";
  c.if_modified_since = "yesterday";
  EXPECT_FALSE(conditional_read(c, r).has_value()) << "not a date: ignored";
  c.if_modified_since = "Thu, 01 Jan 2026 00:00:00 GMT";
  c.if_none_match = "\"other\"";
  EXPECT_FALSE(conditional_read(c, r).has_value()) << "If-None-Match decides alone";
}

TEST(ConditionalRead, IfMatchThatFailsIsA412) {
  const Reply r = value_reply(1'000'000);
  HttpConditions c;
  c.if_match = "\"other\"";
  std::optional<HttpResponse> got = conditional_read(c, r);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 412u);
  EXPECT_EQ(got->etag, etag_of(r.version)) << "the current ETag comes with it";
  c.if_match = etag_of(r.version);
  EXPECT_FALSE(conditional_read(c, r).has_value());
  c.if_match = "W/" + etag_of(r.version);
  EXPECT_EQ(conditional_read(c, r)->status, 412u) << "If-Match compares strongly";
  c.if_match = "*";
  EXPECT_FALSE(conditional_read(c, r).has_value());
}

TEST(ConditionalRead, WithoutAValue) {
  Reply gone{1, ClientOp::kGet, ReplyStatus::kNotFound, Version{5, 0, 7}};
  HttpConditions c;
  c.if_match = "*";
  EXPECT_EQ(conditional_read(c, gone)->status, 412u) << "If-Match needs a current value";
  c = HttpConditions{};
  c.if_none_match = "*";
  EXPECT_FALSE(conditional_read(c, gone).has_value()) << "a 404 as usual";
  Reply timeout{1, ClientOp::kGet, ReplyStatus::kTimeout};
  c.if_match = "\"x\"";
  EXPECT_FALSE(conditional_read(c, timeout).has_value()) << "a timeout is answered as such";
}

}  // namespace
}  // namespace ckv
