#include "kernel/commit_gate.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel/kv/mem_store.h"
#include "kernel/wire/codec.h"

namespace ckv {
namespace {

enum class Kind : uint8_t { kMembershipDatagram, kKeyValueDatagram, kStream, kReply };

const Address kPeer{0x0a000002u, 7946};

std::vector<uint8_t> packet_of(wire::Message m) {
  const std::vector<wire::Message> messages{std::move(m)};
  return wire::encode_packet(messages);
}

// One output of kind `kind`, tagged with `id` so that it can be told apart when released.
void produce(Outbox& out, Kind kind, uint32_t id) {
  switch (kind) {
    case Kind::kMembershipDatagram:
      out.sends.push_back(Send{kPeer, Channel::kDatagram, packet_of(wire::Ack{id})});
      break;
    case Kind::kKeyValueDatagram:
      out.sends.push_back(Send{kPeer, Channel::kDatagram, packet_of(wire::Query{id, "k"})});
      break;
    case Kind::kStream:
      out.sends.push_back(Send{kPeer, Channel::kStream, packet_of(wire::Ack{id})});
      break;
    case Kind::kReply: {
      Reply r;
      r.request = id;
      out.replies.push_back(r);
      break;
    }
  }
}

// The tags of everything in `effects`.
std::vector<uint32_t> released(const Effects& effects) {
  std::vector<uint32_t> ids;
  for (const Send& s : effects.sends) {
    std::vector<wire::Message> messages;
    EXPECT_TRUE(
        wire::decode_packet(s.bytes, wire::DecodeLimits{SIZE_MAX, SIZE_MAX, SIZE_MAX}, messages)
            .ok());
    for (const wire::Message& m : messages) {
      if (const auto* ack = std::get_if<wire::Ack>(&m)) ids.push_back(ack->seq);
      if (const auto* query = std::get_if<wire::Query>(&m))
        ids.push_back(static_cast<uint32_t>(query->id));
    }
  }
  for (const Reply& r : effects.replies)
    ids.push_back(static_cast<uint32_t>(r.request));
  return ids;
}

Record a_value() {
  Record r;
  r.version = Version{1, 0, 1};
  r.value = "v";
  return r;
}

class CommitGateTest : public ::testing::Test {
 protected:
  MemStore durable_{/*durable_writes=*/true};
  CommitGate gate_{durable_, 1400, 64};
  Outbox out_;
  Effects now_;
};

TEST_F(CommitGateTest, WithNothingStagedOnlyKeyValueDatagramsWaitForTheCommit) {
  produce(out_, Kind::kMembershipDatagram, 1);
  produce(out_, Kind::kKeyValueDatagram, 2);
  produce(out_, Kind::kStream, 3);
  produce(out_, Kind::kReply, 4);
  gate_.take(out_, now_);
  EXPECT_TRUE(out_.sends.empty() && out_.replies.empty());
  EXPECT_EQ(released(now_), (std::vector<uint32_t>{1, 3, 4}));
  EXPECT_TRUE(gate_.commit_due());
  EXPECT_FALSE(gate_.writes_staged());
  now_.clear();
  ASSERT_TRUE(gate_.commit(now_).ok());
  EXPECT_EQ(released(now_), (std::vector<uint32_t>{2}));
  EXPECT_FALSE(gate_.commit_due());
}

TEST_F(CommitGateTest, WhileWritesAreStagedRepliesAndStreamsWaitForTheirCommit) {
  ASSERT_TRUE(gate_.store().put("k", a_value()).ok());
  produce(out_, Kind::kMembershipDatagram, 1);
  produce(out_, Kind::kKeyValueDatagram, 2);
  produce(out_, Kind::kStream, 3);
  produce(out_, Kind::kReply, 4);
  gate_.take(out_, now_);
  EXPECT_EQ(released(now_), (std::vector<uint32_t>{1})) << "membership datagrams go at once";
  EXPECT_EQ(durable_.peek("k"), nullptr);
  now_.clear();
  ASSERT_TRUE(gate_.commit(now_).ok());
  ASSERT_NE(durable_.peek("k"), nullptr);
  EXPECT_EQ(released(now_), (std::vector<uint32_t>{3, 2, 4}))
      << "held sends, then batched datagrams, then replies";
}

TEST_F(CommitGateTest, AFailedCommitReleasesNothingAndDropsWhatWasHeld) {
  ASSERT_TRUE(gate_.store().put("k", a_value()).ok());
  produce(out_, Kind::kKeyValueDatagram, 2);
  produce(out_, Kind::kStream, 3);
  produce(out_, Kind::kReply, 4);
  gate_.take(out_, now_);
  EXPECT_TRUE(now_.empty());
  durable_.fail_writes(true);
  Status s = gate_.commit(now_);
  EXPECT_FALSE(s.ok());
  // Only the held reply comes out, as the store's error; the messages are dropped.
  EXPECT_TRUE(now_.sends.empty());
  ASSERT_EQ(now_.replies.size(), 1u);
  EXPECT_EQ(now_.replies[0].request, 4u);
  EXPECT_EQ(now_.replies[0].status, ReplyStatus::kError);
  EXPECT_EQ(now_.replies[0].code, s.error().code);
  now_.clear();
  EXPECT_FALSE(gate_.commit_due());
  durable_.fail_writes(false);
  ASSERT_TRUE(gate_.commit(now_).ok());
  EXPECT_TRUE(now_.empty()) << "what a failed commit held is never released";
  EXPECT_EQ(durable_.peek("k"), nullptr);
}

TEST_F(CommitGateTest, AfterAFailedCommitWritesGoThroughUntilTheStoreTakesOneAgain) {
  ASSERT_TRUE(gate_.store().put("a", a_value()).ok());
  durable_.fail_writes(true);
  ASSERT_FALSE(gate_.commit(now_).ok());
  ASSERT_TRUE(gate_.store_failing().has_value());
  // Failing: each write meets the store's error at once, and nothing is staged.
  EXPECT_FALSE(gate_.store().put("b", a_value()).ok());
  EXPECT_FALSE(gate_.writes_staged());
  produce(out_, Kind::kReply, 7);
  gate_.take(out_, now_);
  EXPECT_EQ(now_.replies.size(), 1u) << "nothing staged: replies leave at once";
  now_.clear();
  // The store takes writes again: the first goes straight in, and staging resumes.
  durable_.fail_writes(false);
  ASSERT_TRUE(gate_.store().put("c", a_value()).ok());
  EXPECT_NE(durable_.peek("c"), nullptr);
  EXPECT_FALSE(gate_.store_failing().has_value());
  ASSERT_TRUE(gate_.store().put("d", a_value()).ok());
  EXPECT_EQ(durable_.peek("d"), nullptr);
  EXPECT_TRUE(gate_.writes_staged());
}

TEST_F(CommitGateTest, ACommitIsUrgentOnceStagedWritesPassTheirMemoryBound) {
  Record big = a_value();
  big.value.assign(CommitGate::kMaxStagedBytes / 2, 'x');
  ASSERT_TRUE(gate_.store().put("a", big).ok());
  EXPECT_FALSE(gate_.commit_urgent());
  ASSERT_TRUE(gate_.store().put("b", big).ok());
  EXPECT_TRUE(gate_.commit_urgent());
  ASSERT_TRUE(gate_.commit(now_).ok());
  EXPECT_FALSE(gate_.commit_urgent());
}

// The ordering contract, over any sequence of inputs (each may stage a write and produce
// any outputs) and commits (the last may fail):
//  - nothing but membership datagrams leaves before every write staged before it is in
//    the store;
//  - membership datagrams leave with their input; key-value datagrams only at a commit;
//    streams and replies with their input exactly when no write was staged;
//  - every output of a batch whose commit succeeded leaves exactly once, and none of a
//    batch whose commit failed ever does (its replies become errors).
RC_GTEST_PROP(CommitGate, NothingLeavesBeforeTheWritesItMayTellOfAreStored, ()) {
  struct Step {
    bool commit;
    bool stage_write;
    std::vector<uint8_t> kinds;
  };
  const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::build<Step>(
      rc::gen::set(&Step::commit, rc::gen::weightedElement<bool>({{1, true}, {3, false}})),
      rc::gen::set(&Step::stage_write),
      rc::gen::set(&Step::kinds,
                   rc::gen::container<std::vector<uint8_t>>(rc::gen::inRange<uint8_t>(0, 4)))));
  const bool last_commit_fails = *rc::gen::arbitrary<bool>();

  MemStore durable(/*durable_writes=*/true);
  CommitGate gate(durable, 1400, 64);
  uint32_t next_id = 1;
  uint32_t writes = 0;
  std::map<uint32_t, uint32_t> writes_before;  // output id -> writes staged up to its input
  std::map<uint32_t, Kind> kind_of;
  std::set<uint32_t> outstanding, seen;
  auto check_released = [&](const Effects& effects, bool at_commit) {
    for (uint32_t id : released(effects)) {
      RC_ASSERT(seen.insert(id).second);
      RC_ASSERT(outstanding.erase(id) == 1u);
      // Membership datagrams never tell of writes (the failure detector's traffic).
      for (uint32_t w = 0; kind_of[id] != Kind::kMembershipDatagram && w < writes_before[id]; ++w) {
        const bool stored = durable.peek("w" + std::to_string(w)) != nullptr;
        RC_ASSERT(stored);
      }
      if (kind_of[id] == Kind::kKeyValueDatagram) RC_ASSERT(at_commit);
      if (kind_of[id] == Kind::kMembershipDatagram) RC_ASSERT(!at_commit);
    }
  };

  for (const Step& step : steps) {
    Effects now;
    if (step.commit) {
      RC_ASSERT(gate.commit(now).ok());
      check_released(now, true);
      RC_ASSERT(outstanding.empty());
      continue;
    }
    if (step.stage_write) {
      RC_ASSERT(gate.store().put("w" + std::to_string(writes), a_value()).ok());
      ++writes;
    }
    Outbox out;
    std::set<uint32_t> produced;
    for (uint8_t k : step.kinds) {
      const uint32_t id = next_id++;
      kind_of[id] = static_cast<Kind>(k);
      writes_before[id] = writes;
      produce(out, kind_of[id], id);
      outstanding.insert(id);
      produced.insert(id);
    }
    gate.take(out, now);
    check_released(now, false);
    for (uint32_t id : produced) {
      const Kind k = kind_of[id];
      const bool at_once =
          k == Kind::kMembershipDatagram || (k != Kind::kKeyValueDatagram && !gate.writes_staged());
      RC_ASSERT(seen.count(id) == (at_once ? 1u : 0u));
    }
  }
  Effects now;
  durable.fail_writes(last_commit_fails && gate.writes_staged());
  const bool failed = !gate.commit(now).ok();
  if (failed) {
    // Nothing leaves but an error in place of each held reply.
    RC_ASSERT(now.sends.empty() && now.changes.empty());
    for (const Reply& r : now.replies) {
      RC_ASSERT(r.status == ReplyStatus::kError);
      RC_ASSERT(outstanding.erase(static_cast<uint32_t>(r.request)) == 1u);
    }
    now.clear();
    durable.fail_writes(false);
    RC_ASSERT(gate.commit(now).ok());
    RC_ASSERT(now.empty());
  } else {
    check_released(now, true);
    RC_ASSERT(outstanding.empty());
  }
}

}  // namespace
}  // namespace ckv
