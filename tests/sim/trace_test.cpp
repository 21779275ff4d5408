#include "sim/trace.h"

#include <gtest/gtest.h>

#include <vector>

#include "kernel/wire/codec.h"

namespace ckv::sim {
namespace {

uint64_t hash_of(const std::vector<uint8_t>& packet) {
  Trace trace(4);
  trace.add(TraceRecord{MonoTime{} + Duration(7), TraceKind::kDeliver, 0, 1, 2}, packet);
  return trace.hash();
}

TEST(Trace, TheHashCoversMessageBytes) {
  const wire::Message a = wire::Ping{1, "n1"};
  const wire::Message b = wire::Ping{2, "n1"};
  const auto pa = wire::encode_packet({&a, 1});
  const auto pb = wire::encode_packet({&b, 1});
  EXPECT_EQ(hash_of(pa), hash_of(pa));
  EXPECT_NE(hash_of(pa), hash_of(pb));
}

TEST(Trace, TheHashCoversEveryField) {
  const TraceRecord base{MonoTime{} + Duration(5), TraceKind::kChange, 1, 2, 3, 4, 5};
  auto hash = [](const TraceRecord& r) {
    Trace t(0);
    t.add(r);
    return t.hash();
  };
  TraceRecord r = base;
  const uint64_t h = hash(base);
  r.at += Duration(1);
  EXPECT_NE(hash(r), h);
  r = base;
  r.sub = 9;
  EXPECT_NE(hash(r), h);
  r = base;
  r.a = 9;
  EXPECT_NE(hash(r), h);
  r = base;
  r.b = 9;
  EXPECT_NE(hash(r), h);
  r = base;
  r.x = 9;
  EXPECT_NE(hash(r), h);
  r = base;
  r.y = 9;
  EXPECT_NE(hash(r), h);
}

TEST(Trace, KeepsTheLastRecordsForReports) {
  Trace t(3);
  for (uint32_t i = 0; i < 5; ++i)
    t.add(TraceRecord{MonoTime{}, TraceKind::kLifecycle, 0, i});
  const auto lines = t.recent();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("n2 start"), std::string::npos);
  EXPECT_NE(lines[2].find("n4 start"), std::string::npos);
  EXPECT_EQ(t.records(), 5u);
}

}  // namespace
}  // namespace ckv::sim
