#include "kernel/membership/member_table.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>

namespace ckv {
namespace {

Member member(const std::string& name, MemberState state = MemberState::kAlive) {
  return Member{CompactString(name), Address{1, 2}, 1, state, true, MonoTime{}};
}

// The table agrees with a plain map under any sequence of inserts, state changes,
// removals and shuffles.
RC_GTEST_PROP(MemberTable, BehavesLikeAMap, (uint64_t seed)) {
  MemberTable table;
  std::map<std::string, MemberState> model;
  Prng rng(seed);
  const int ops = *rc::gen::inRange(1, 400);
  for (int i = 0; i < ops; ++i) {
    const std::string name = "node-" + std::to_string(*rc::gen::inRange(0, 60)) +
                             std::string(*rc::gen::inRange(0, 2) * 20, 'x');
    switch (*rc::gen::inRange(0, 4)) {
      case 0:
        if (!model.count(name)) {
          table.insert(member(name), rng);
          model[name] = MemberState::kAlive;
        }
        break;
      case 1:
        if (Member* m = table.find(name)) {
          const auto s = *rc::gen::element(MemberState::kAlive, MemberState::kSuspect,
                                           MemberState::kDead, MemberState::kLeft);
          table.set_state(*m, s, MonoTime{});
          model[name] = s;
        }
        break;
      case 2:
        table.remove_if([&](const Member& m) { return m.name == name; });
        model.erase(name);
        break;
      default:
        table.shuffle(rng);
    }
    RC_ASSERT(table.size() == model.size());
    size_t counts[4] = {};
    for (const auto& [n, s] : model) {
      const Member* m = table.find(n);
      RC_ASSERT(m != nullptr);
      RC_ASSERT(m->state == s);
      counts[static_cast<size_t>(s)]++;
    }
    for (size_t s = 0; s < 4; ++s)
      RC_ASSERT(table.count(static_cast<MemberState>(s)) == counts[s]);
    RC_ASSERT(table.find("absent") == nullptr);
  }
}

TEST(MemberTable, InsertsAtRandomPositions) {
  Prng rng(3);
  MemberTable table;
  for (int i = 0; i < 50; ++i)
    table.insert(member("m" + std::to_string(i)), rng);
  EXPECT_NE(table[49].name, "m49");  // the newest did not simply go to the end
  int in_order = 0;
  for (int i = 0; i < 50; ++i)
    in_order += table[static_cast<size_t>(i)].name == "m" + std::to_string(i);
  EXPECT_LT(in_order, 25);
}

TEST(MemberTable, MemberIsCompact) {
  // 48 bytes a member (its tags out of line) plus at most 8 of index: the 64 KiB per
  // simulated node at 1000 members depends on it.
  EXPECT_LE(sizeof(Member), 48u);
}

}  // namespace
}  // namespace ckv
