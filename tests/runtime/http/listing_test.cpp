// GET /_cluster/keys: its parameters (400s naming them) and its JSON (UTF-8 keys as
// strings, others as base64; next, current).
#include "runtime/http/listing.h"

#include <gtest/gtest.h>

#include "runtime/http/http_api.h"

namespace ckv {
namespace {

TEST(ListParams, DefaultsAndValues) {
  auto p = list_params("", 1024);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->prefix, "");
  EXPECT_EQ(p->limit, 1000u);
  EXPECT_FALSE(p->timeout);
  p = list_params("prefix=a%2Fb&after=a%2Fb1&limit=10000&timeout=2s", 1024);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->prefix, "a/b");
  EXPECT_EQ(p->after, "a/b1");
  EXPECT_EQ(p->limit, 10000u);
  EXPECT_EQ(*p->timeout, std::chrono::seconds(2));
  p = list_params("after_base64=/w==", 1024);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->after, "\xff");
}

TEST(ListParams, BadOnesAreNamed) {
  for (const char* query : {"limit=0", "limit=10001", "limit=1x", "limit=-1", "prefix=%zz",
                            "timeout=soon", "after_base64=!!", "after=a&after_base64=YQ=="}) {
    auto p = list_params(query, 1024);
    ASSERT_FALSE(p.ok()) << query;
    const std::string name(query, std::string_view(query).find('='));
    EXPECT_NE(p.error().detail.find(name.substr(0, 5)), std::string::npos)
        << query << ": " << p.error().detail;
  }
  EXPECT_FALSE(list_params("prefix=" + std::string(1025, 'a'), 1024).ok());
}

TEST(ListingJson, KeysEtagsNextAndCurrent) {
  Reply r{1, ClientOp::kList, ReplyStatus::kOk};
  r.keys.push_back(ListedKey{"a\"b", Version{1, 2, 3}, 5, 0});
  r.keys.push_back(ListedKey{"\xff\xfe", Version{4, 0, 3}, 0, 0});
  r.next = "\xff\xfe";
  r.current = false;
  EXPECT_EQ(listing_json(r),
            "{\"keys\":[{\"key\":\"a\\\"b\",\"etag\":\"\\\"1.2@0000000000000003\\\"\",\"size\":5},"
            "{\"key_base64\":\"//4=\",\"etag\":\"\\\"4.0@0000000000000003\\\"\",\"size\":0}],"
            "\"next\":null,\"next_base64\":\"//4=\",\"current\":false}\n");
  Reply empty{1, ClientOp::kList, ReplyStatus::kOk};
  EXPECT_EQ(listing_json(empty), "{\"keys\":[],\"next\":null,\"current\":true}\n");
}

TEST(ListParams, ValuesAndWhetherALimitWasGiven) {
  auto p = list_params("values", 1024);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->values);
  EXPECT_FALSE(p->limited);
  p = list_params("values=1&limit=5", 1024);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->values);
  EXPECT_TRUE(p->limited);
  EXPECT_FALSE(list_params("prefix=a", 1024)->values);
  auto bad = list_params("values=no", 1024);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("values"), std::string::npos);
}

TEST(ListingExport, ALinePerKeyThenWhereItEnded) {
  Reply page{1, ClientOp::kList, ReplyStatus::kOk};
  ListedKey typed{"a", Version{1, 2, 3}, 3, 0, "foo", {"text/plain", "gzip"}};
  ListedKey odd{"\xff", Version{4, 0, 3}, 0, 99, "", {}};
  page.keys = {typed, odd};
  EXPECT_EQ(export_lines(page),
            "{\"key\":\"a\",\"etag\":\"\\\"1.2@0000000000000003\\\"\",\"size\":3,\"value\":"
            "\"Zm9v\",\"content_type\":\"text/plain\",\"content_encoding\":\"gzip\"}\n"
            "{\"key_base64\":\"/w==\",\"etag\":\"\\\"4.0@0000000000000003\\\"\",\"size\":0,"
            "\"value\":\"\",\"expires_us\":99}\n");
  EXPECT_EQ(export_end("", true), "{\"next\":null,\"current\":true}\n");
  EXPECT_EQ(export_end("k", false), "{\"next\":\"k\",\"current\":false}\n");
  EXPECT_EQ(export_end("k", false, "store failed"),
            "{\"error\":\"store failed\",\"next\":\"k\"}\n");
}

TEST(Base64, Standard) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
}

}  // namespace
}  // namespace ckv
