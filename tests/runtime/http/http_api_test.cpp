#include "runtime/http/http_api.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

TEST(PercentDecode, DecodesEscapesAndKeepsPlus) {
  EXPECT_EQ(*percent_decode("a%20b"), "a b");
  EXPECT_EQ(*percent_decode("%2Fx%2f"), "/x/");
  EXPECT_EQ(*percent_decode("a+b"), "a+b");
  EXPECT_EQ(*percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(*percent_decode("%e2%82%AC"), "\xe2\x82\xac");
}

TEST(PercentDecode, RefusesBrokenEscapes) {
  for (const char* bad : {"%", "%2", "a%zz", "%g0", "ab%", "%%41"}) {
    EXPECT_FALSE(percent_decode(bad).ok()) << bad;
  }
}

TEST(RouteTarget, KeysAreTheDecodedPath) {
  auto r = route_target("/foo%2Fbar?timeout=2s", 1024);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->route, Route::kKey);
  EXPECT_EQ(r->key, "foo/bar");
  EXPECT_EQ(r->query, "timeout=2s");
  EXPECT_EQ(route_target("/a/b/c", 1024)->key, "a/b/c");
  EXPECT_EQ(route_target("//x", 1024)->key, "/x");
}

TEST(RouteTarget, ClusterEndpointsLiveUnderTheReservedPrefix) {
  EXPECT_EQ(route_target("/_cluster/members", 1024)->route, Route::kMembers);
  EXPECT_EQ(route_target("/_cluster/health", 1024)->route, Route::kHealth);
  EXPECT_EQ(route_target("/_cluster/metrics", 1024)->route, Route::kMetrics);
  EXPECT_EQ(route_target("/_cluster/other", 1024)->route, Route::kUnknown);
  // A key may not reach the prefix by encoding it either.
  EXPECT_FALSE(route_target("/%5Fcluster/members", 1024).ok());
  EXPECT_FALSE(route_target("/_cluster%2Fmembers", 1024).ok());
  // But "_cluster" alone, or another underscore key, is an ordinary key.
  EXPECT_EQ(route_target("/_cluster", 1024)->route, Route::kKey);
  EXPECT_EQ(route_target("/_clusterx", 1024)->route, Route::kKey);
}

TEST(RouteTarget, RefusesEmptyOversizedAndMalformed) {
  EXPECT_FALSE(route_target("/", 1024).ok());
  EXPECT_FALSE(route_target("/?timeout=1s", 1024).ok());
  EXPECT_FALSE(route_target("", 1024).ok());
  EXPECT_FALSE(route_target("http://host/x", 1024).ok());
  EXPECT_FALSE(route_target("/%zz", 1024).ok());
  EXPECT_TRUE(route_target("/" + std::string(1024, 'k'), 1024).ok());
  auto big = route_target("/" + std::string(1025, 'k'), 1024);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::kOversized);
  // The limit applies to the decoded key: 400 escapes of 3 bytes are 400 bytes.
  std::string escaped;
  for (int i = 0; i < 400; ++i)
    escaped += "%41";
  EXPECT_TRUE(route_target("/" + escaped, 1024).ok());
}

TEST(QueryParam, FindsDecodesAndDefaultsToEmpty) {
  EXPECT_EQ(*query_param("a=1&timeout=250ms&b=2", "timeout"), "250ms");
  EXPECT_EQ(*query_param("timeout=1%2E5s", "timeout"), "1.5s");
  EXPECT_EQ(*query_param("a=1", "timeout"), "");
  EXPECT_EQ(*query_param("", "timeout"), "");
  EXPECT_EQ(*query_param("timeout", "timeout"), "");
  EXPECT_EQ(*query_param("xtimeout=1&timeout=2", "timeout"), "2");
  EXPECT_FALSE(query_param("timeout=%x", "timeout").ok());
}

// A reply that may not be the newest says so, on a 404 as on a 200: a 404 whose reader
// knew of a newer version nobody could give is not "the key does not exist".
TEST(QueryParam, PresenceWithOrWithoutAValue) {
  EXPECT_TRUE(has_param("values", "values"));
  EXPECT_TRUE(has_param("a=1&values=", "values"));
  EXPECT_TRUE(has_param("a=1&values=1&b", "values"));
  EXPECT_FALSE(has_param("a=values&valuesx=1", "values"));
  EXPECT_FALSE(has_param("", "values"));
}

// The stored content type comes back on GET and HEAD; none stored: octet-stream.
TEST(KeyResponse, AValueComesWithItsContentType) {
  auto header = [](const HttpResponse& r, const std::string& name) -> std::string {
    for (const auto& [n, value] : r.headers) {
      if (n == name) return value;
    }
    return "(none)";
  };
  Reply typed{1, ClientOp::kGet, ReplyStatus::kOk, Version{5, 0, 9}, "{}"};
  typed.content = {"application/json", "gzip"};
  for (HttpMethod method : {HttpMethod::kGet, HttpMethod::kHead}) {
    HttpResponse r = key_response(method, typed, std::nullopt, false);
    EXPECT_EQ(r.content_type, nullptr);
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    EXPECT_EQ(header(r, "Content-Encoding"), "gzip");
  }
  Reply plain{1, ClientOp::kGet, ReplyStatus::kOk, Version{5, 0, 9}, "raw"};
  HttpResponse r = key_response(HttpMethod::kGet, plain, std::nullopt, false);
  EXPECT_STREQ(r.content_type, "application/octet-stream");
  EXPECT_EQ(header(r, "Content-Encoding"), "(none)");
}

TEST(KeyResponse, ANotCurrentAnswerIsMarkedOnA200AndA404Alike) {
  auto current_header = [](const HttpResponse& r) -> std::string {
    for (const auto& [name, value] : r.headers) {
      if (name == "X-Cluster-KV-Current") return value;
    }
    return "(none)";
  };
  Reply found{1, ClientOp::kGet, ReplyStatus::kOk, Version{5, 0, 9}, "v"};
  EXPECT_EQ(current_header(key_response(HttpMethod::kGet, found, std::nullopt, false)), "(none)");
  found.current = false;
  HttpResponse stale = key_response(HttpMethod::kGet, found, std::nullopt, false);
  EXPECT_EQ(stale.status, 200u);
  EXPECT_EQ(current_header(stale), "false");

  Reply absent{2, ClientOp::kGet, ReplyStatus::kNotFound};
  HttpResponse gone = key_response(HttpMethod::kGet, absent, std::nullopt, false);
  EXPECT_EQ(gone.status, 404u);
  EXPECT_EQ(current_header(gone), "(none)");
  absent.current = false;
  HttpResponse unsure = key_response(HttpMethod::kHead, absent, std::nullopt, false);
  EXPECT_EQ(unsure.status, 404u);
  EXPECT_EQ(current_header(unsure), "false");
}

}  // namespace
}  // namespace ckv
