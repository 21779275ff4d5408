// Listing keys (kernel/kv/listing.cpp) on a hand-driven three-node cluster: merged by
// version across members, sorted, paged at the lowest point any member stopped at,
// expired values left out, and a silent member makes the answer not current.
#include <gtest/gtest.h>

#include "kernel/wire/messages.h"
#include "tests/support/mem_cluster.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;

class Listing : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cluster_.error(), ""); }
  void put(size_t node, const std::string& key, const std::string& value,
           std::optional<Duration> ttl = std::nullopt) {
    cluster_.node(node).put(cluster_.now(node), next_++, key, value, ttl);
    cluster_.run_for(5ms);
  }
  Reply list(size_t node, const std::string& prefix, const std::string& after, size_t limit) {
    const uint64_t request = next_++;
    cluster_.node(node).list(cluster_.now(node), request, prefix, after, limit);
    cluster_.advance(20ms);
    const Reply* r = cluster_.reply_to(request);
    return r != nullptr ? *r : Reply{request, ClientOp::kList, ReplyStatus::kTimeout};
  }
  static std::vector<std::string> keys_of(const Reply& r) {
    std::vector<std::string> out;
    for (const ListedKey& k : r.keys)
      out.push_back(k.key);
    return out;
  }
  MemCluster cluster_{3, 100};
  uint64_t next_ = 1;
};

TEST_F(Listing, TheWholeClusterMergedByVersion) {
  put(0, "a/1", "x");
  put(1, "a/2", "yy");
  put(2, "a/3", "zzz");
  put(0, "b/1", "other prefix");
  // n1 caches a/1, then n2 deletes it: n1's stale copy must not bring it back.
  cluster_.node(1).get(cluster_.now(1), next_++, "a/1");
  cluster_.run_for(5ms);
  cluster_.node(2).erase(cluster_.now(2), next_++, "a/1");
  put(2, "a/2", "longer");  // overwritten elsewhere
  Reply r = list(1, "a/", "", 100);
  ASSERT_EQ(r.status, ReplyStatus::kOk) << r.error;
  EXPECT_TRUE(r.current);
  EXPECT_EQ(keys_of(r), (std::vector<std::string>{"a/2", "a/3"}));
  EXPECT_EQ(r.keys[0].size, 6u);
  EXPECT_EQ(r.keys[0].version.node, node_id(cluster_.node(2).name()));
  EXPECT_EQ(r.next, "");
}

TEST_F(Listing, PagesEndWhereAMemberStopped) {
  for (int i = 0; i < 10; ++i)
    put(static_cast<size_t>(i % 3), "k" + std::to_string(i), "v");
  std::vector<std::string> all;
  std::string after;
  int pages = 0;
  do {
    Reply r = list(0, "k", after, 3);
    ASSERT_EQ(r.status, ReplyStatus::kOk);
    EXPECT_LE(r.keys.size(), 3u);
    for (const std::string& k : keys_of(r))
      all.push_back(k);
    after = r.next;
    ASSERT_LT(++pages, 20);
  } while (!after.empty());
  EXPECT_EQ(all,
            (std::vector<std::string>{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}));
}

// With values: each key comes with the newest value and its content type, whoever holds
// it; a member's answer stops past wire::kListValueBytes, and the pages still cover all.
TEST_F(Listing, ValuesComeWithTheirContentTypesAndPagesStopAtTheByteBudget) {
  const ContentType text{"text/plain", ""};
  cluster_.node(0).put(cluster_.now(0), next_++, "t/a", "first", std::nullopt, text);
  cluster_.run_for(5ms);
  put(1, "t/a", "second");  // overwritten elsewhere: the value and type of the newest
  cluster_.node(2).put(cluster_.now(2), next_++, "t/b", "bee", std::nullopt, text);
  cluster_.run_for(5ms);
  const std::string big(wire::kListValueBytes / 2 + 1, 'x');
  for (int i = 0; i < 4; ++i)
    put(1, "u/" + std::to_string(i), big);  // past the budget after two
  const uint64_t request = next_++;
  cluster_.node(0).list(cluster_.now(0), request, "t/", "", 10, std::nullopt, /*values=*/true);
  cluster_.advance(20ms);
  ASSERT_NE(cluster_.reply_to(request), nullptr);
  const Reply typed = *cluster_.reply_to(request);  // (a copy: later replies move them)
  ASSERT_EQ(typed.keys.size(), 2u);
  EXPECT_EQ(typed.keys[0].value, "second");
  EXPECT_TRUE(typed.keys[0].content.empty());
  EXPECT_EQ(typed.keys[1].value, "bee");
  EXPECT_EQ(typed.keys[1].content, text);
  // Without values asked for, none come.
  EXPECT_TRUE(list(0, "t/", "", 10).keys[1].value.empty());

  std::vector<std::string> all;
  std::string after;
  int pages = 0;
  do {
    const uint64_t id = next_++;
    cluster_.node(2).list(cluster_.now(2), id, "u/", after, 10, std::nullopt, true);
    cluster_.advance(50ms);
    ASSERT_NE(cluster_.reply_to(id), nullptr);
    const Reply r = *cluster_.reply_to(id);
    ASSERT_EQ(r.status, ReplyStatus::kOk) << r.error;
    EXPECT_LE(r.keys.size(), 2u) << "a page stops once a member's values pass the budget";
    for (const ListedKey& k : r.keys) {
      EXPECT_EQ(k.value, big);
      all.push_back(k.key);
    }
    after = r.next;
    ASSERT_LT(++pages, 10);
  } while (!after.empty());
  EXPECT_EQ(all, (std::vector<std::string>{"u/0", "u/1", "u/2", "u/3"}));
  EXPECT_GE(pages, 2);
}

TEST_F(Listing, ExpiredValuesAreLeftOut) {
  put(0, "brief", "v", 100ms);
  put(1, "kept", "v");
  cluster_.run_for(200ms);
  EXPECT_EQ(keys_of(list(2, "", "", 10)), (std::vector<std::string>{"kept"}));
}

TEST_F(Listing, ASilentMemberMakesItNotCurrent) {
  put(0, "a", "v");
  put(2, "b", "v");
  auto silent = [](const MemCluster::InFlight& m) { return m.to == 2; };  // held: n2 hears nothing
  const uint64_t request = next_++;
  cluster_.node(0).list(cluster_.now(0), request, "", "", 10, 50ms);
  cluster_.advance(100ms, silent);
  const Reply* r = cluster_.reply_to(request);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->current);
  EXPECT_EQ(keys_of(*r), (std::vector<std::string>{"a"}));
}

TEST_F(Listing, BadLimitsAreRefused) {
  EXPECT_EQ(list(0, "", "", 0).code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(list(0, "", "", KeyValue::kMaxListLimit + 1).code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ckv
