#include "kernel/kv/staged_store.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "kernel/kv/mem_store.h"

namespace ckv {
namespace {

Record value_record(std::string value, uint64_t wall_us) {
  Record r;
  r.version = Version{wall_us, 0, 7};
  r.value = std::move(value);
  return r;
}

class StagedStoreTest : public ::testing::Test {
 protected:
  // The value `store` reads for `key`, or "-" when it has no record.
  static std::string read(Store& store, const std::string& key) {
    Record r;
    Result<bool> found = store.get(key, r);
    EXPECT_TRUE(found.ok());
    return found.ok() && found.value() ? r.value : "-";
  }

  MemStore durable_{/*durable_writes=*/true};
  std::unique_ptr<StagedStore> staged_ = std::make_unique<StagedStore>(durable_);
};

TEST_F(StagedStoreTest, StagedWritesAreReadBackButNotStoredUntilCommit) {
  ASSERT_TRUE(durable_.put("kept", value_record("old", 1)).ok());
  ASSERT_TRUE(durable_.put("dropped", value_record("old", 1)).ok());
  ASSERT_TRUE(staged_->put("kept", value_record("new", 2)).ok());
  ASSERT_TRUE(staged_->put("added", value_record("added", 2)).ok());
  ASSERT_TRUE(staged_->erase("dropped").ok());

  EXPECT_EQ(read(*staged_, "kept"), "new");
  EXPECT_EQ(read(*staged_, "added"), "added");
  EXPECT_EQ(read(*staged_, "dropped"), "-");
  // Readers of the store beneath (the HTTP threads) see none of it yet.
  EXPECT_EQ(read(durable_, "kept"), "old");
  EXPECT_EQ(read(durable_, "added"), "-");
  EXPECT_EQ(read(durable_, "dropped"), "old");
  EXPECT_EQ(staged_->staged_writes(), 3u);

  ASSERT_TRUE(staged_->commit().ok());
  EXPECT_TRUE(staged_->empty());
  EXPECT_EQ(staged_->staged_bytes(), 0u);
  for (Store* store : {static_cast<Store*>(staged_.get()), static_cast<Store*>(&durable_)}) {
    EXPECT_EQ(read(*store, "kept"), "new");
    EXPECT_EQ(read(*store, "added"), "added");
    EXPECT_EQ(read(*store, "dropped"), "-");
  }
}

TEST_F(StagedStoreTest, TheLastWriteOfAKeyInABatchWins) {
  ASSERT_TRUE(staged_->put("k", value_record("first", 1)).ok());
  ASSERT_TRUE(staged_->erase("k").ok());
  ASSERT_TRUE(staged_->put("k", value_record("third", 3)).ok());
  ASSERT_TRUE(staged_->put("gone", value_record("x", 1)).ok());
  ASSERT_TRUE(staged_->erase("gone").ok());
  EXPECT_EQ(staged_->staged_writes(), 2u);
  EXPECT_EQ(staged_->staged_bytes(), 2 * StagedStore::kEntryOverhead + std::string("k").size() +
                                         std::string("third").size() + std::string("gone").size());
  ASSERT_TRUE(staged_->commit().ok());
  EXPECT_EQ(read(durable_, "k"), "third");
  EXPECT_EQ(read(durable_, "gone"), "-");
}

TEST_F(StagedStoreTest, AFailedCommitStoresNoneOfTheBatchAndEmptiesTheStage) {
  ASSERT_TRUE(durable_.put("k", value_record("old", 1)).ok());
  ASSERT_TRUE(staged_->put("k", value_record("new", 2)).ok());
  ASSERT_TRUE(staged_->put("added", value_record("v", 2)).ok());
  durable_.fail_writes(true);
  Status s = staged_->commit();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIoError);
  EXPECT_TRUE(staged_->empty());
  EXPECT_EQ(staged_->staged_bytes(), 0u);
  durable_.fail_writes(false);
  EXPECT_EQ(read(durable_, "k"), "old");
  EXPECT_EQ(read(durable_, "added"), "-");
  EXPECT_EQ(read(*staged_, "k"), "old");
}

TEST_F(StagedStoreTest, AWriteBatchIsStagedLikeItsWrites) {
  const Record a = value_record("a", 1);
  const std::vector<RecordWrite> batch{{"x", &a}, {"y", &a}, {"x", nullptr}};
  ASSERT_TRUE(staged_->write_batch(batch).ok());
  EXPECT_EQ(staged_->staged_writes(), 2u);
  EXPECT_EQ(read(durable_, "y"), "-");
  ASSERT_TRUE(staged_->commit().ok());
  EXPECT_EQ(read(durable_, "x"), "-");
  EXPECT_EQ(read(durable_, "y"), "a");
}

TEST_F(StagedStoreTest, ForEachSeesStagedWritesWithoutCommittingAndMetaIsNotStaged) {
  ASSERT_TRUE(durable_.put("a", value_record("old", 1)).ok());
  ASSERT_TRUE(durable_.put("b", value_record("old", 1)).ok());
  ASSERT_TRUE(durable_.put("c", value_record("kept", 1)).ok());
  ASSERT_TRUE(staged_->put("a", value_record("new", 2)).ok());
  ASSERT_TRUE(staged_->erase("b").ok());
  ASSERT_TRUE(staged_->put("d", value_record("added", 2)).ok());
  ASSERT_TRUE(staged_->put_meta(MetaKey::kEpoch, 9).ok());
  EXPECT_EQ(*durable_.get_meta(MetaKey::kEpoch), 9u);
  std::map<std::string, std::string> seen;
  std::vector<std::string> order;
  ASSERT_TRUE(staged_
                  ->for_each([&](std::string_view key, const Record& r) {
                    EXPECT_TRUE(seen.emplace(std::string(key), r.value).second) << key;
                    order.emplace_back(key);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c", "d"})) << "in key order, staged included";
  EXPECT_EQ(seen,
            (std::map<std::string, std::string>{{"a", "new"}, {"c", "kept"}, {"d", "added"}}));
  EXPECT_EQ(staged_->staged_writes(), 3u);
  EXPECT_EQ(read(durable_, "a"), "old");
  int visited = 0;
  ASSERT_TRUE(
      staged_->for_each([&](std::string_view, const Record&) { return ++visited < 2; }).ok());
  EXPECT_EQ(visited, 2);
  std::vector<std::string> from_b;
  ASSERT_TRUE(staged_
                  ->for_each_from("b",
                                  [&](std::string_view key, const Record&) {
                                    from_b.emplace_back(key);
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(from_b, (std::vector<std::string>{"c", "d"}));
}

}  // namespace
}  // namespace ckv
