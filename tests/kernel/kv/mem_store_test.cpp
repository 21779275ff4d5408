#include "kernel/kv/mem_store.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

Record value(uint64_t wall, std::string v) {
  return Record{RecordKind::kValue, Version{wall, 0, 1}, 1, std::move(v)};
}

TEST(MemStore, DurableWritesSurviveACrash) {
  MemStore s(true);
  ASSERT_TRUE(s.put("a", value(1, "x")).ok());
  ASSERT_TRUE(s.put("b", value(2, "y")).ok());
  ASSERT_TRUE(s.erase("b").ok());
  s.crash();
  Record r;
  ASSERT_TRUE(s.get("a", r).value());
  EXPECT_EQ(r.value, "x");
  EXPECT_FALSE(s.get("b", r).value());
}

TEST(MemStore, ACrashLosesWhatWasNotFlushed) {
  MemStore s(false);
  ASSERT_TRUE(s.put("a", value(1, "old")).ok());
  ASSERT_TRUE(s.put("gone", value(1, "z")).ok());
  s.flush();
  ASSERT_TRUE(s.put("a", value(2, "new")).ok());
  ASSERT_TRUE(s.erase("gone").ok());
  ASSERT_TRUE(s.put("c", value(3, "w")).ok());
  EXPECT_EQ(s.volatile_writes(), 3u);
  s.crash();
  Record r;
  ASSERT_TRUE(s.get("a", r).value());
  EXPECT_EQ(r.value, "old");
  EXPECT_TRUE(s.get("gone", r).value());  // the erase was lost too
  EXPECT_FALSE(s.get("c", r).value());
}

TEST(MemStore, MetaIsAlwaysDurable) {
  MemStore s(false);
  ASSERT_TRUE(s.put_meta(MetaKey::kEpoch, 5).ok());
  s.crash();
  EXPECT_EQ(s.get_meta(MetaKey::kEpoch).value(), 5u);
  EXPECT_EQ(s.get_meta(MetaKey::kClockCeiling).value(), 0u);
}

TEST(MemStore, AFullDiskRefusesEveryWriteAndChangesNothing) {
  MemStore s(true);
  ASSERT_TRUE(s.put("a", value(1, "x")).ok());
  ASSERT_TRUE(s.put_meta(MetaKey::kEpoch, 5).ok());
  s.fail_writes(true);
  EXPECT_FALSE(s.put("a", value(2, "y")).ok());
  EXPECT_FALSE(s.put("b", value(2, "y")).ok());
  EXPECT_FALSE(s.erase("a").ok());
  EXPECT_FALSE(s.put_meta(MetaKey::kEpoch, 6).ok());
  Record r;
  ASSERT_TRUE(s.get("a", r).value());  // reads still work
  EXPECT_EQ(r.value, "x");
  EXPECT_FALSE(s.get("b", r).value());
  EXPECT_EQ(s.get_meta(MetaKey::kEpoch).value(), 5u);
  s.fail_writes(false);
  EXPECT_TRUE(s.put("a", value(3, "z")).ok());
  EXPECT_TRUE(s.put_meta(MetaKey::kEpoch, 6).ok());
}

}  // namespace
}  // namespace ckv
