// Access control: the token file's grammar (errors name the line, never the token), what
// each route needs, which grants allow it, and the 401/403 answers.
#include "runtime/security/access.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

const std::string kRead = "read-token-0123456789";
const std::string kWriteApp = "write-app-0123456789";
const std::string kAdmin = "admin-token-012345678";

TokenTable table() {
  auto t = TokenTable::parse("# comment\n\n" + kRead + " read\n" + kWriteApp + "  write  app/\n" +
                                 kWriteApp + " read shared/\r\n" + kAdmin + "\tadmin\n",
                             "t");
  EXPECT_TRUE(t.ok()) << t.error().detail;
  return std::move(*t);
}

TEST(TokenTable, ParsesGrantsAndDescribesThem) {
  TokenTable t = table();
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.describe(), "4 grants (1 admin, 1 write, 2 read)");
  EXPECT_EQ(t.grants_of(kWriteApp).size(), 2u);
  EXPECT_EQ(t.grants_of(kRead).size(), 1u);
  EXPECT_TRUE(t.grants_of("read-token-0123456788").empty());
  EXPECT_TRUE(t.grants_of("").empty());
}

TEST(TokenTable, HashStartsAComment) {
  auto t = TokenTable::parse(
      "tok-0123456789abcdef write app/ # the web servers\n"
      "tok-fedcba9876543210 read #prefix-looking note\n",
      "t");
  ASSERT_TRUE(t.ok()) << t.error().detail;
  ASSERT_EQ(t->grants_of("tok-0123456789abcdef").size(), 1u);
  EXPECT_EQ(t->grants_of("tok-0123456789abcdef")[0].key_prefix, "app/");
  EXPECT_EQ(t->grants_of("tok-fedcba9876543210")[0].key_prefix, "");
}

TEST(TokenTable, RefusesBadLinesNamingTheLineNotTheToken) {
  const std::string secret = "secret-token-0123456789";
  for (const std::string& text :
       {secret + "\n", secret + " root\n", secret + " read a b\n", std::string("short read\n"),
        std::string("bad:token-0123456789 read\n"), std::string("# only comments\n")}) {
    auto t = TokenTable::parse(text, "tokens");
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.error().detail.rfind("tokens", 0), 0u) << t.error().detail;
    EXPECT_EQ(t.error().detail.find(secret), std::string::npos) << t.error().detail;
  }
}

TEST(Access, WhatEachRouteNeeds) {
  auto get = need_of(Route::kKey, HttpMethod::kGet, "k", "", false);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->right, Right::kRead);
  EXPECT_EQ(get->key_or_prefix, "k");
  EXPECT_EQ(need_of(Route::kKey, HttpMethod::kDelete, "k", "", false)->right, Right::kWrite);
  EXPECT_EQ(need_of(Route::kKey, HttpMethod::kPost, "k", "", false)->right, Right::kWrite);
  auto list = need_of(Route::kKeys, HttpMethod::kGet, "", "limit=3&prefix=app%2F", false);
  EXPECT_EQ(list->right, Right::kRead);
  EXPECT_EQ(list->key_or_prefix, "app/");
  EXPECT_EQ(need_of(Route::kMembers, HttpMethod::kGet, "", "", true)->right, Right::kAdmin);
  EXPECT_FALSE(need_of(Route::kHealth, HttpMethod::kGet, "", "", true));
  EXPECT_FALSE(need_of(Route::kMetrics, HttpMethod::kGet, "", "", true));
  EXPECT_EQ(need_of(Route::kHealth, HttpMethod::kGet, "", "", false)->right, Right::kAdmin);
}

TEST(Access, GrantsAllowByRightAndPrefix) {
  Grant scoped{{}, Right::kWrite, "app/"};
  EXPECT_TRUE(allows(scoped, Need{Right::kRead, "app/x"}));
  EXPECT_TRUE(allows(scoped, Need{Right::kWrite, "app/x"}));
  EXPECT_FALSE(allows(scoped, Need{Right::kWrite, "ap"}));
  EXPECT_FALSE(allows(scoped, Need{Right::kRead, ""}));  // a listing of every key
  EXPECT_FALSE(allows(scoped, Need{Right::kAdmin, std::nullopt}));
  Grant scoped_admin{{}, Right::kAdmin, "app/"};
  EXPECT_FALSE(allows(scoped_admin, Need{Right::kAdmin, std::nullopt}));  // not about keys
  Grant admin{{}, Right::kAdmin, ""};
  EXPECT_TRUE(allows(admin, Need{Right::kAdmin, std::nullopt}));
  EXPECT_TRUE(allows(admin, Need{Right::kWrite, "anything"}));
}

std::optional<HttpResponse> check(const AccessControl& access, const std::string& authorization,
                                  const Need* need) {
  HttpRequest r;
  r.authorization = authorization;
  return access.check(r, need);
}

TEST(Access, AnswersUnauthorizedAndForbidden) {
  AccessControl access(table(), "unused", false);
  Need write_other{Right::kWrite, "other"};
  auto none = check(access, "", &write_other);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401u);
  ASSERT_EQ(none->headers.size(), 1u);
  EXPECT_EQ(none->headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(none->headers[0].second.rfind("Bearer", 0), 0u);
  EXPECT_EQ(check(access, "Basic dXNlcjpwdw==", &write_other)->status, 401u);
  EXPECT_EQ(check(access, "Bearer wrong-token-0123456789", &write_other)->status, 401u);
  EXPECT_EQ(check(access, "Bearer " + kWriteApp, &write_other)->status, 403u);
  Need write_app{Right::kWrite, "app/1"};
  EXPECT_FALSE(check(access, "Bearer " + kWriteApp, &write_app));
  EXPECT_FALSE(check(access, "bearer   " + kWriteApp + " ", &write_app));  // scheme: any case
  Need read_shared{Right::kRead, "shared/1"};
  EXPECT_FALSE(check(access, "Bearer " + kWriteApp, &read_shared));  // its second grant
  EXPECT_FALSE(check(access, "Bearer " + kRead, nullptr));           // unrouted: any known token
  EXPECT_EQ(check(access, "", nullptr)->status, 401u);
}

}  // namespace
}  // namespace ckv
