// Protocol rules of the membership layer, checked by driving one node by hand.
#include "kernel/membership/membership.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kernel/kv/mem_store.h"
#include "kernel/node.h"
#include "kernel/wire/codec.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;
using wire::MemberState;
using wire::Message;

const Address kA{0x0a000001, 7946};
const Address kB{0x0a000002, 7946};
const Address kC{0x0a000003, 7946};
const Address kD{0x0a000004, 7946};

struct Sent {
  Address to;
  Channel channel;
  Message message;
};

// One node named "a" at kA, fed by hand; everything it sends is decoded for inspection.
class OneNode : public ::testing::Test {
 protected:
  void make(NodeConfig config = {}) {
    auto n = Node::create(config, "a", kA, 1234, Now{t_, {}}, store_);
    ASSERT_TRUE(n.ok()) << n.error().detail;
    node_ = std::move(*n);
    node_->join(Now{t_, {}}, {});
  }
  void SetUp() override { make(); }

  Now now() const { return Now{t_, {}}; }
  MemStore store_{true};
  void receive(const Address& from, std::vector<Message> messages,
               Channel channel = Channel::kDatagram) {
    node_->on_message(now(), from, channel, wire::encode_packet(messages));
  }
  // Fires every timer due up to `t_ + d`, in order. With `answer_pings_`, every member
  // the node pings answers at once.
  void advance(Duration d) {
    const MonoTime end = t_ + d;
    while (node_->next_deadline() <= end) {
      t_ = std::max(t_, node_->next_deadline());
      node_->on_timer(now());
      if (answer_pings_) answer_pings();
    }
    t_ = end;
  }
  void answer_pings() {
    std::vector<std::pair<Address, uint32_t>> pings;
    for (const Send& s : node_->outbox().sends) {
      std::vector<Message> decoded;
      if (!wire::decode_packet(s.bytes, {}, decoded).ok()) continue;
      for (const Message& m : decoded) {
        if (auto* p = std::get_if<wire::Ping>(&m)) pings.emplace_back(s.to, p->seq);
      }
    }
    node_->outbox().clear();
    for (auto [to, seq] : pings)
      receive(to, {wire::Ack{seq}});
  }
  // Decodes and clears what the node has sent so far.
  std::vector<Sent> take_sent() {
    std::vector<Sent> out;
    for (const Send& s : node_->outbox().sends) {
      std::vector<Message> decoded;
      EXPECT_TRUE(wire::decode_packet(s.bytes, {SIZE_MAX, SIZE_MAX}, decoded).ok());
      for (Message& m : decoded)
        out.push_back(Sent{s.to, s.channel, std::move(m)});
    }
    node_->outbox().clear();
    return out;
  }
  template <class T>
  std::vector<std::pair<Address, T>> sent_of(const std::vector<Sent>& sent) {
    std::vector<std::pair<Address, T>> out;
    for (const Sent& s : sent) {
      if (const T* m = std::get_if<T>(&s.message)) out.emplace_back(s.to, *m);
    }
    return out;
  }
  // Runs time forward in 100 ms steps until the node sends its next probe; returns the
  // pings sent in that step (none if it never probes within `limit`).
  std::vector<std::pair<Address, wire::Ping>> next_probe(Duration limit = 4s) {
    std::vector<std::pair<Address, wire::Ping>> pings;
    for (Duration waited{}; waited < limit && pings.empty(); waited += 100ms) {
      advance(100ms);
      pings = sent_of<wire::Ping>(take_sent());
    }
    return pings;
  }
  const Member* member(const std::string& name) { return node_->members().find(name); }
  void know_b_c_d() {
    know("b", kB);
    know("c", kC);
    know("d", kD);
  }
  void know(const std::string& name, Address addr, Incarnation inc = 1) {
    receive(addr, {wire::Alive{inc, name, addr}});
    node_->outbox().clear();
  }

  MonoTime t_ = MonoTime{} + 1000s;
  std::unique_ptr<Node> node_;
  bool answer_pings_ = false;
};

TEST_F(OneNode, AnswersPingsForItsOwnNameOnly) {
  receive(kB, {wire::Ping{42, "a"}});
  auto acks = sent_of<wire::Ack>(take_sent());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, kB);
  EXPECT_EQ(acks[0].second.seq, 42u);

  receive(kB, {wire::Ping{43, "someone-else"}});
  EXPECT_TRUE(sent_of<wire::Ack>(take_sent()).empty());
  EXPECT_EQ(node_->stats().misdirected_pings, 1u);
}

TEST_F(OneNode, LearnsMembersAndPassesTheNewsOn) {
  receive(kB, {wire::Alive{1, "b", kB}});
  ASSERT_NE(member("b"), nullptr);
  EXPECT_EQ(member("b")->state, MemberState::kAlive);
  ASSERT_EQ(node_->outbox().changes.size(), 1u);
  EXPECT_TRUE(node_->outbox().changes[0].is_new);
  node_->outbox().clear();
  // The news rides on the next datagram the node sends.
  receive(kC, {wire::Ping{1, "a"}});
  auto alive = sent_of<wire::Alive>(take_sent());
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0].first, kC);
  EXPECT_EQ(alive[0].second.node, "b");
}

TEST_F(OneNode, RefutesSuspicionWithAHigherIncarnation) {
  know("b", kB);
  receive(kB, {wire::Suspect{1, "a", "b"}});
  EXPECT_EQ(node_->membership().incarnation(), 2u);
  EXPECT_EQ(node_->stats().refutations, 1u);
  EXPECT_EQ(node_->membership().health_score(), 1);  // Lifeguard: refuting is a bad sign
  EXPECT_EQ(member("a")->state, MemberState::kAlive);
  receive(kB, {wire::Ping{5, "a"}});
  bool refutation_sent = false;
  for (const auto& [to, alive] : sent_of<wire::Alive>(take_sent())) {
    refutation_sent |= alive.node == "a" && alive.incarnation == 2u;
  }
  EXPECT_TRUE(refutation_sent);
}

TEST_F(OneNode, RefutesDeathAboveTheAccusedIncarnation) {
  know("b", kB);
  receive(kB, {wire::Dead{7, "a", "b"}});
  EXPECT_EQ(node_->membership().incarnation(), 8u);
  EXPECT_EQ(member("a")->state, MemberState::kAlive);
}

TEST_F(OneNode, StaleNewsChangesNothing) {
  know("b", kB, 3);
  receive(kC, {wire::Alive{2, "b", kB}, wire::Suspect{2, "b", "c"}, wire::Dead{2, "b", "c"}});
  EXPECT_EQ(member("b")->state, MemberState::kAlive);
  EXPECT_EQ(member("b")->incarnation, 3u);
  EXPECT_TRUE(node_->outbox().changes.empty());
}

TEST_F(OneNode, OnlyANewerIncarnationBringsTheDeadBack) {
  know("b", kB, 3);
  receive(kC, {wire::Dead{3, "b", "c"}});
  EXPECT_EQ(member("b")->state, MemberState::kDead);
  receive(kC, {wire::Alive{3, "b", kB}});
  EXPECT_EQ(member("b")->state, MemberState::kDead);
  receive(kC, {wire::Alive{4, "b", kB}});
  EXPECT_EQ(member("b")->state, MemberState::kAlive);
}

// Dead news at a newer incarnation about a member held dead: it came back and failed again
// while this node did not see it (behind a partition). It stays dead, takes the newer
// incarnation, and the change is reported, so the key-value layer revalidates what that
// unseen life may have written (its epoch moves). Nothing new, nothing reported.
TEST_F(OneNode, ADeadMemberThatLivedAgainUnseenIsReported) {
  know("b", kB, 3);
  receive(kC, {wire::Dead{3, "b", "c"}});
  node_->outbox().clear();
  const uint64_t epoch = node_->kv().serving_epoch();
  receive(kC, {wire::Dead{5, "b", "c"}});
  EXPECT_EQ(member("b")->state, MemberState::kDead);
  EXPECT_EQ(member("b")->incarnation, 5u);
  ASSERT_EQ(node_->outbox().changes.size(), 1u);
  EXPECT_EQ(node_->outbox().changes[0].from_incarnation, 3u);
  EXPECT_EQ(node_->outbox().changes[0].to_state, MemberState::kDead);
  EXPECT_GT(node_->kv().serving_epoch(), epoch);
  node_->outbox().clear();
  const uint64_t after = node_->kv().serving_epoch();
  receive(kC, {wire::Dead{5, "b", "c"}});
  EXPECT_TRUE(node_->outbox().changes.empty());
  EXPECT_EQ(node_->kv().serving_epoch(), after);
  // A state exchange passes verdicts on as suspicions: the same holds for them.
  receive(kC, {wire::Suspect{6, "b", "c"}});
  EXPECT_EQ(member("b")->incarnation, 6u);
  EXPECT_EQ(node_->outbox().changes.size(), 1u);
}

TEST_F(OneNode, AFailedMemberThatLeftIsRecordedAsLeft) {
  know("b", kB, 3);
  receive(kC, {wire::Dead{3, "b", "c"}});
  EXPECT_EQ(member("b")->state, MemberState::kDead);
  const uint64_t epoch = node_->kv().serving_epoch();
  receive(kC, {wire::Dead{3, "b", "b"}});
  EXPECT_EQ(member("b")->state, MemberState::kLeft);
  // Only a live member announces its leave: held dead, it lived on unseen, and may have
  // written what never reached us (found by cluster-kv-sim --nodes 5 --seed 1605).
  EXPECT_GT(node_->kv().serving_epoch(), epoch);
  receive(kC, {wire::Dead{3, "b", "c"}});  // left is final
  EXPECT_EQ(member("b")->state, MemberState::kLeft);
}

TEST_F(OneNode, TellsWhoeverAccusesADepartedMemberThatItLeft) {
  know("b", kB);
  know("c", kC);
  receive(kB, {wire::Dead{1, "b", "b"}});
  take_sent();
  receive(kD, {wire::Suspect{1, "b", "c"}});
  bool told = false;
  for (const auto& [to, dead] : sent_of<wire::Dead>(take_sent())) {
    told |= to == kC && dead == wire::Dead{1, "b", "b"};
  }
  EXPECT_TRUE(told);
  EXPECT_EQ(member("b")->state, MemberState::kLeft);
}

TEST_F(OneNode, RefusesASecondAddressForALiveMember) {
  know("b", kB, 3);
  receive(kC, {wire::Alive{4, "b", kC}});
  EXPECT_EQ(member("b")->addr, kB);
  EXPECT_EQ(node_->stats().address_conflicts, 1u);
  receive(kC, {wire::Dead{4, "b", "c"}});
  receive(kC, {wire::Alive{5, "b", kC}});  // once it is gone, the name may move
  EXPECT_EQ(member("b")->addr, kC);
  EXPECT_EQ(member("b")->state, MemberState::kAlive);
}

TEST_F(OneNode, ProbesDirectlyThenIndirectlyThenSuspects) {
  know_b_c_d();
  const auto pings = next_probe();
  ASSERT_EQ(pings.size(), 1u);
  const Address target = pings[0].first;
  const std::string target_name = pings[0].second.target;
  // No ack within the probe timeout: the other two are asked, with nacks.
  advance(500ms);
  auto indirect = sent_of<wire::IndirectPing>(take_sent());
  ASSERT_EQ(indirect.size(), 2u);
  for (const auto& [helper, req] : indirect) {
    EXPECT_NE(helper, target);
    EXPECT_EQ(req.target, target_name);
    EXPECT_EQ(req.seq, pings[0].second.seq);
    EXPECT_TRUE(req.want_nack);
  }
  // One helper nacks, the other says nothing; the interval ends: suspect.
  receive(indirect[0].first, {wire::Nack{indirect[0].second.seq}});
  advance(500ms);
  EXPECT_EQ(member(target_name)->state, MemberState::kSuspect);
  EXPECT_EQ(node_->stats().probes_failed, 1u);
  // Lifeguard: one nack of the two expected went missing.
  EXPECT_EQ(node_->membership().health_score(), 1);
}

TEST_F(OneNode, AnAckInTimeKeepsTheMemberAliveAndLowersTheScore) {
  know("b", kB);
  receive(kB, {wire::Suspect{1, "a", "b"}});  // score 1 from refuting
  take_sent();
  const auto pings = next_probe();
  ASSERT_EQ(pings.size(), 1u);
  receive(kB, {wire::Ack{pings[0].second.seq}});
  EXPECT_EQ(node_->membership().health_score(), 0);
  // The probe is over: no indirect probes follow, and b stays alive.
  advance(600ms);
  EXPECT_TRUE(sent_of<wire::IndirectPing>(take_sent()).empty());
  EXPECT_EQ(member("b")->state, MemberState::kAlive);
  EXPECT_EQ(node_->stats().probes_failed, 0u);
}

TEST_F(OneNode, SuspicionTimesOutIntoDeathUnlessConfirmedSooner) {
  // Five members: k = suspicion_mult - 2 = 2 confirmations expected; min 4 s, max 24 s.
  // Everyone answers our pings, so only c and d accuse b.
  answer_pings_ = true;
  for (auto [name, addr] : {std::pair{"b", kB}, {"c", kC}, {"d", kD}, {"e", Address{9, 9}}}) {
    know(name, addr);
  }
  receive(kC, {wire::Suspect{1, "b", "c"}});
  EXPECT_EQ(member("b")->state, MemberState::kSuspect);
  receive(kD, {wire::Suspect{1, "b", "d"}});  // one confirmation: 11.381 s
  EXPECT_EQ(node_->stats().suspicion_confirmations, 1u);
  advance(11380ms);
  EXPECT_EQ(member("b")->state, MemberState::kSuspect);
  advance(2ms);
  EXPECT_EQ(member("b")->state, MemberState::kDead);
  EXPECT_EQ(node_->stats().suspicion_timeouts, 1u);
}

TEST_F(OneNode, TellsASuspectThatItIsSuspected) {
  know("b", kB);
  receive(kC, {wire::Suspect{1, "b", "c"}});
  take_sent();
  std::vector<Sent> sent;
  for (int i = 0; i < 40; ++i) {
    advance(100ms);
    auto batch = take_sent();
    sent.insert(sent.end(), batch.begin(), batch.end());
    if (!sent_of<wire::Ping>(sent).empty()) break;
  }
  // The ping to the suspect carries the suspicion itself (the Lifeguard "buddy" rule).
  bool ping_seen = false, buddy_seen = false;
  for (const Sent& s : sent) {
    if (s.to != kB) continue;
    ping_seen |= std::holds_alternative<wire::Ping>(s.message);
    if (auto* m = std::get_if<wire::Suspect>(&s.message)) buddy_seen |= m->node == "b";
  }
  EXPECT_TRUE(ping_seen);
  EXPECT_TRUE(buddy_seen);
}

TEST_F(OneNode, RelaysIndirectPingsAndForwardsTheAck) {
  know("c", kC);
  receive(kC, {wire::IndirectPing{77, "b", kB, true}});
  auto pings = sent_of<wire::Ping>(take_sent());
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, kB);
  EXPECT_EQ(pings[0].second.target, "b");
  receive(kD, {wire::Ack{pings[0].second.seq}});  // not from b: ignored
  EXPECT_TRUE(sent_of<wire::Ack>(take_sent()).empty());
  receive(kB, {wire::Ack{pings[0].second.seq}});
  auto acks = sent_of<wire::Ack>(take_sent());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, kC);
  EXPECT_EQ(acks[0].second.seq, 77u);
  advance(1s);
  EXPECT_TRUE(sent_of<wire::Nack>(take_sent()).empty());
}

TEST_F(OneNode, RelaysOnlyForMembers) {
  receive(kC, {wire::IndirectPing{77, "b", kB, true}});
  EXPECT_TRUE(sent_of<wire::Ping>(take_sent()).empty());
  EXPECT_EQ(node_->stats().relays_dropped, 1u);
}

TEST_F(OneNode, NacksAnIndirectPingThatGetsNoAnswer) {
  know("c", kC);
  receive(kC, {wire::IndirectPing{78, "b", kB, true}});
  take_sent();
  advance(499ms);
  EXPECT_TRUE(sent_of<wire::Nack>(take_sent()).empty());
  advance(2ms);
  auto nacks = sent_of<wire::Nack>(take_sent());
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].first, kC);
  EXPECT_EQ(nacks[0].second.seq, 78u);
}

TEST_F(OneNode, AnswersPushPullWithItsStateOverTheStream) {
  know("c", kC);
  wire::PushPull request{false, false, "b", kB, {{"b", kB, 4, MemberState::kAlive}}};
  receive(kB, {request}, Channel::kStream);
  EXPECT_EQ(member("b")->incarnation, 4u);
  auto sent = take_sent();
  auto replies = sent_of<wire::PushPull>(sent);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].first, kB);
  EXPECT_TRUE(replies[0].second.reply);
  EXPECT_EQ(replies[0].second.members.size(), 3u);  // a, b, c
  for (const Sent& s : sent) {
    if (std::holds_alternative<wire::PushPull>(s.message)) {
      EXPECT_EQ(s.channel, Channel::kStream);
    }
  }
}

TEST_F(OneNode, IgnoresPushPullOverDatagrams) {
  wire::PushPull request{false, false, "b", kB, {{"b", kB, 4, MemberState::kAlive}}};
  receive(kB, {request}, Channel::kDatagram);
  EXPECT_EQ(member("b"), nullptr);
  EXPECT_TRUE(sent_of<wire::PushPull>(take_sent()).empty());
  EXPECT_EQ(node_->stats().wrong_channel, 1u);
}

TEST_F(OneNode, AcksFromStrangersDoNotCompleteAProbe) {
  know_b_c_d();
  const auto pings = next_probe();
  ASSERT_EQ(pings.size(), 1u);
  receive(Address{0x7f000001, 9999}, {wire::Ack{pings[0].second.seq}});
  advance(500ms);
  EXPECT_EQ(sent_of<wire::IndirectPing>(take_sent()).size(), 2u);  // still waiting: ask others
}

TEST_F(OneNode, IncarnationsNeverWrapAround) {
  know("b", kB);
  receive(kB, {wire::Suspect{0xfffffffe, "a", "b"}});
  EXPECT_EQ(node_->membership().incarnation(), 0xffffffffu);
  receive(kB, {wire::Suspect{0xffffffff, "a", "b"}});
  EXPECT_EQ(node_->membership().incarnation(), 0xffffffffu);
}

TEST_F(OneNode, AFullTableForgetsTheLongestGoneToMakeRoom) {
  NodeConfig config;
  config.membership.max_members = 3;
  make(config);
  know("b", kB);
  know("c", kC);
  receive(kC, {wire::Dead{1, "b", "c"}});
  know("d", kD);  // b makes room
  EXPECT_EQ(member("b"), nullptr);
  ASSERT_NE(member("d"), nullptr);
  know("e", Address{9, 9});  // nobody is gone: refused
  EXPECT_EQ(member("e"), nullptr);
  EXPECT_EQ(node_->stats().members_refused, 1u);
}

TEST_F(OneNode, RemoteVerdictsOfDeathAreOnlySuspicionsHere) {
  know("c", kC, 2);
  wire::PushPull remote{
      false, true, "b", kB, {{"b", kB, 1, MemberState::kAlive}, {"c", kC, 2, MemberState::kDead}}};
  receive(kB, {remote}, Channel::kStream);
  EXPECT_EQ(member("c")->state, MemberState::kSuspect);
}

TEST(Join, RetriesUnansweredSeedsWithBackoffUntilOneAnswers) {
  const MonoTime t0 = MonoTime{} + 50s;
  MemStore store(true);
  auto node = std::move(*Node::create({}, "a", kA, 1, Now{t0, {}}, store));
  node->join(Now{t0, {}}, std::vector<Address>{kB, kA});  // its own address is skipped
  std::vector<MonoTime> attempts;
  MonoTime t = t0;
  auto collect = [&] {
    for (const Send& s : node->outbox().sends) {
      if (s.channel == Channel::kStream) {
        EXPECT_EQ(s.to, kB);
        attempts.push_back(t);
      }
    }
    node->outbox().clear();
  };
  collect();
  while (t < t0 + 8s) {
    t = std::min(node->next_deadline(), t0 + 8s);
    node->on_timer(Now{t, {}});
    collect();
  }
  ASSERT_GE(attempts.size(), 3u);
  EXPECT_EQ(attempts[0], t0);
  EXPECT_EQ(attempts[1], t0 + 1s);
  EXPECT_EQ(attempts[2], t0 + 3s);
  EXPECT_FALSE(node->membership().joined());
  const Message reply = wire::PushPull{true, true, "b", kB, {{"b", kB, 1, MemberState::kAlive}}};
  node->on_message(Now{t, {}}, kB, Channel::kStream, wire::encode_packet({&reply, 1}));
  EXPECT_TRUE(node->membership().joined());
  EXPECT_EQ(node->members().find("b")->state, MemberState::kAlive);
}

// A node whose seeds have not answered (yet) is in the cluster once a member exchanges
// full state with it (a member's periodic push-pull, or one reconnecting to it): it counts
// as joined, and tries its seeds only a member's few times more.
TEST(Join, AStateExchangeFromAMemberCompletesAJoinTheSeedsDidNotAnswer) {
  const MonoTime t0 = MonoTime{} + 50s;
  MemStore store(true);
  auto node = std::move(*Node::create({}, "a", kA, 1, Now{t0, {}}, store));
  node->join(Now{t0, {}}, std::vector<Address>{kB});
  node->outbox().clear();
  ASSERT_FALSE(node->membership().joined());
  const Message from_c = wire::PushPull{false, false, "c", kC, {{"c", kC, 1, MemberState::kAlive}}};
  node->on_message(Now{t0 + 10ms, {}}, kC, Channel::kStream, wire::encode_packet({&from_c, 1}));
  EXPECT_TRUE(node->membership().joined());
  size_t joins_to_b = 0;
  for (MonoTime t = t0 + 10ms; t < t0 + 300s;) {
    node->outbox().clear();
    t = std::min(node->next_deadline(), t0 + 300s);
    node->on_timer(Now{t, {}});
    for (const Send& s : node->outbox().sends)
      joins_to_b += s.channel == Channel::kStream && s.to == kB;
  }
  EXPECT_LE(joins_to_b, 6u);
}

// Peers found later (by mDNS) are retried a few times with the join backoff; a member
// does not go back to "joining" because one of them never answers (another cluster key, a
// firewall), and stops retrying once one answers.
TEST(Join, AMemberRetriesLaterSeedsAFewTimesAndStaysJoined) {
  const MonoTime t0 = MonoTime{} + 50s;
  MemStore store(true);
  auto node = std::move(*Node::create({}, "a", kA, 1, Now{t0, {}}, store));
  node->join(Now{t0, {}}, std::vector<Address>{});  // founds a cluster of one
  ASSERT_TRUE(node->membership().joined());
  node->outbox().clear();
  node->join(Now{t0, {}}, std::vector<Address>{kB});
  std::vector<MonoTime> to_b;
  MonoTime t = t0;
  while (t < t0 + 120s) {
    for (const Send& s : node->outbox().sends)
      if (s.channel == Channel::kStream && s.to == kB) to_b.push_back(t);
    node->outbox().clear();
    EXPECT_TRUE(node->membership().joined());
    t = std::min(node->next_deadline(), t0 + 120s);
    node->on_timer(Now{t, {}});
  }
  ASSERT_EQ(to_b.size(), 6u);  // then it gives up: the peer also finds this node
  EXPECT_EQ(to_b[1], t0 + 1s);
  EXPECT_EQ(to_b[5], t0 + 31s);
}

TEST(Join, AMemberStopsRetryingOnceALaterSeedAnswers) {
  const MonoTime t0 = MonoTime{} + 50s;
  MemStore store(true);
  auto node = std::move(*Node::create({}, "a", kA, 1, Now{t0, {}}, store));
  node->join(Now{t0, {}}, std::vector<Address>{});
  node->join(Now{t0, {}}, std::vector<Address>{kB});
  const Message reply = wire::PushPull{true, true, "b", kB, {{"b", kB, 1, MemberState::kAlive}}};
  node->on_message(Now{t0 + 10ms, {}}, kB, Channel::kStream, wire::encode_packet({&reply, 1}));
  node->outbox().clear();
  size_t joins_to_b = 0;
  MonoTime t = t0 + 10ms;
  while (t < t0 + 20s) {
    t = std::min(node->next_deadline(), t0 + 20s);
    node->on_timer(Now{t, {}});
    for (const Send& s : node->outbox().sends) {
      if (s.channel != Channel::kStream || s.to != kB) continue;
      std::vector<Message> decoded;
      ASSERT_TRUE(wire::decode_packet(s.bytes, {}, decoded).ok());
      for (const Message& m : decoded) {
        if (auto* pp = std::get_if<wire::PushPull>(&m); pp != nullptr && pp->join) joins_to_b++;
      }
    }
    node->outbox().clear();
  }
  EXPECT_EQ(joins_to_b, 0u);
  EXPECT_TRUE(node->membership().joined());
}

TEST_F(OneNode, LeavingGossipsLeftAndCompletes) {
  know("b", kB);
  know("c", kC);
  node_->leave(now());
  EXPECT_EQ(member("a")->state, MemberState::kLeft);
  EXPECT_FALSE(node_->leave_complete());
  std::vector<Sent> sent;
  for (int i = 0; i < 50 && !node_->leave_complete(); ++i) {
    advance(200ms);
    auto batch = take_sent();
    sent.insert(sent.end(), batch.begin(), batch.end());
  }
  EXPECT_TRUE(node_->leave_complete());
  auto deads = sent_of<wire::Dead>(sent);
  ASSERT_FALSE(deads.empty());
  EXPECT_EQ(deads[0].second.node, "a");
  EXPECT_EQ(deads[0].second.from, "a");
  EXPECT_TRUE(sent_of<wire::Ping>(sent).empty());  // a leaving node accuses nobody
  receive(kB, {wire::Suspect{9, "a", "b"}});       // nor refutes
  EXPECT_EQ(node_->membership().incarnation(), 1u);
}

TEST_F(OneNode, ReapsFailedAndLeftMembersAfterTheirTimeouts) {
  NodeConfig config;
  config.membership.reconnect_timeout = 20s;
  config.membership.tombstone_timeout = 40s;
  make(config);
  know_b_c_d();
  receive(kD, {wire::Dead{1, "b", "d"}, wire::Dead{1, "c", "c"}});
  node_->outbox().clear();
  advance(25s);  // d is never acked: let it be; only b and c matter here
  EXPECT_EQ(member("b"), nullptr);
  EXPECT_NE(member("c"), nullptr);
  advance(20s);
  EXPECT_EQ(member("c"), nullptr);
}

TEST_F(OneNode, TriesToReconnectToFailedMembers) {
  know("b", kB);
  receive(kC, {wire::Dead{1, "b", "c"}});
  take_sent();
  bool reconnected = false;
  for (int i = 0; i < 70 && !reconnected; ++i) {
    advance(1s);
    for (const auto& [to, pp] : sent_of<wire::PushPull>(take_sent()))
      reconnected |= to == kB;
  }
  EXPECT_TRUE(reconnected);
  EXPECT_GE(node_->stats().reconnect_attempts, 1u);
}

TEST_F(OneNode, WithoutLifeguardTheSuspicionTimeoutIsFixedAndHealthIsIgnored) {
  NodeConfig config;
  config.membership.lifeguard = false;
  make(config);
  for (auto [name, addr] : {std::pair{"b", kB}, {"c", kC}, {"d", kD}, {"e", Address{9, 9}}}) {
    know(name, addr);
  }
  receive(kC, {wire::Suspect{1, "b", "c"}});
  receive(kC, {wire::Suspect{1, "a", "c"}});
  EXPECT_EQ(node_->membership().health_score(), 0);
  advance(3999ms);
  EXPECT_EQ(member("b")->state, MemberState::kSuspect);
  advance(2ms);
  EXPECT_EQ(member("b")->state, MemberState::kDead);
}

}  // namespace
}  // namespace ckv

namespace ckv {
namespace {

TEST_F(OneNode, TakesTagsWithNewerIncarnationsOnly) {
  const wire::Tags cache{{"role", "cache"}};
  const wire::Tags db{{"az", "z1"}, {"role", "db"}};
  receive(kB, {wire::Alive{1, "b", kB, cache}});
  EXPECT_EQ(member("b")->tags, cache);
  receive(kB, {wire::Alive{1, "b", kB, db}});  // the same incarnation: not news
  EXPECT_EQ(member("b")->tags, cache);
  receive(kB, {wire::Alive{2, "b", kB, db}});
  EXPECT_EQ(member("b")->tags, db);
  receive(kB, {wire::Alive{3, "b", kB, {}}});  // tags removed
  EXPECT_TRUE(member("b")->tags.empty());
}

TEST_F(OneNode, RetaggingBumpsTheIncarnationAndGossipsTheTags) {
  know_b_c_d();
  const Incarnation before = node_->membership().incarnation();
  const wire::Tags tags{{"role", "cache"}};
  ASSERT_TRUE(node_->set_tags(now(), tags).ok());
  EXPECT_EQ(node_->membership().incarnation(), before + 1);
  EXPECT_EQ(member("a")->tags, tags);
  EXPECT_EQ(node_->stats().tag_changes, 1u);
  // The same tags again change nothing.
  ASSERT_TRUE(node_->set_tags(now(), tags).ok());
  EXPECT_EQ(node_->membership().incarnation(), before + 1);
  // Tags out of bounds are refused, and nothing changes.
  EXPECT_FALSE(node_->set_tags(now(), {{"bad key", "x"}}).ok());
  EXPECT_FALSE(node_->set_tags(now(), {{"b", "1"}, {"a", "2"}}).ok());  // unsorted
  EXPECT_EQ(node_->membership().tags(), tags);
  // The news rides on what the node sends next.
  bool told = false;
  for (int i = 0; i < 20 && !told; ++i) {
    advance(100ms);
    for (const auto& [to, alive] : sent_of<wire::Alive>(take_sent())) {
      told |= alive.node == "a" && alive.incarnation == before + 1 && alive.tags == tags;
    }
  }
  EXPECT_TRUE(told);
}

}  // namespace
}  // namespace ckv

namespace ckv {
namespace {

TEST_F(OneNode, ForceLeaveTakesOnlyFailedMembers) {
  know_b_c_d();
  auto refused = [&](const std::string& name, const std::string& why) {
    Status s = node_->force_leave(now(), name);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_NE(s.error().detail.find(why), std::string::npos) << s.error().detail;
  };
  refused("a", "is this node");
  refused("b", "is alive");
  refused("nobody", "no member named nobody");
  EXPECT_EQ(node_->force_leave(now(), "nobody").error().code, ErrorCode::kNotFound);
  receive(kC, {wire::Suspect{1, "b", "c"}});
  ASSERT_EQ(member("b")->state, MemberState::kSuspect);
  refused("b", "is suspect");
  receive(kC, {wire::Dead{1, "b", "c"}});
  ASSERT_EQ(member("b")->state, MemberState::kDead);
  node_->outbox().clear();
  ASSERT_TRUE(node_->force_leave(now(), "b").ok());
  EXPECT_EQ(member("b")->state, MemberState::kLeft);
  EXPECT_EQ(node_->stats().forced_leaves, 1u);
  ASSERT_EQ(node_->outbox().changes.size(), 1u);
  EXPECT_EQ(node_->outbox().changes[0].to_state, MemberState::kLeft);
  EXPECT_TRUE(node_->force_leave(now(), "b").ok());  // already left: nothing to do
  EXPECT_EQ(node_->stats().forced_leaves, 1u);
}

TEST_F(OneNode, ALeaveBelowTheIncarnationOfAMemberHeldDeadIsTaken) {
  know("b", kB, 4);
  receive(kC, {wire::Dead{4, "b", "c"}});
  ASSERT_EQ(member("b")->state, MemberState::kDead);
  // Another node forced b out at the incarnation it knew (3): b is left here too, and keeps
  // the newer incarnation.
  receive(kC, {wire::Dead{3, "b", "b"}});
  EXPECT_EQ(member("b")->state, MemberState::kLeft);
  EXPECT_EQ(member("b")->incarnation, 4u);
  // An older leave never touches a member held alive.
  know("d", kD, 5);
  receive(kC, {wire::Dead{3, "d", "d"}});
  EXPECT_EQ(member("d")->state, MemberState::kAlive);
}

}  // namespace
}  // namespace ckv

namespace ckv {
namespace {

// During a rolling upgrade, a node of an earlier wire revision relays our own news without
// the tags: that is no accusation (refuting it would start a storm of refutations), and a
// member's tags learnt without tags are taken when its own news says them.
TEST_F(OneNode, NewsWithoutTagsFromAnOlderNodeIsNeitherAccusationNorTags) {
  ASSERT_TRUE(node_->set_tags(now(), {{"role", "cache"}}).ok());
  const Incarnation mine = node_->membership().incarnation();
  receive(kB, {wire::Alive{mine, "a", kA, {}, /*tags_said=*/false}});
  EXPECT_EQ(node_->membership().incarnation(), mine);
  EXPECT_EQ(node_->stats().refutations, 0u);
  // But other tags said at our incarnation (a process of ours before a restart) are.
  receive(kB, {wire::Alive{mine, "a", kA, {{"role", "old"}}}});
  EXPECT_EQ(node_->membership().incarnation(), mine + 1);

  const wire::Tags db{{"role", "db"}};
  receive(kC, {wire::Alive{2, "b", kB, db}});
  receive(kC, {wire::Alive{3, "b", kB, {}, /*tags_said=*/false}});  // relayed by an old node
  EXPECT_EQ(member("b")->incarnation, 3u);
  EXPECT_EQ(member("b")->tags, db);  // the last known stand in
  const wire::Tags cache{{"role", "cache"}};
  receive(kB, {wire::Alive{3, "b", kB, cache}});  // b's own news of incarnation 3
  EXPECT_EQ(member("b")->tags, cache);
  receive(kC, {wire::Alive{3, "b", kB, db}});  // said already: not news
  EXPECT_EQ(member("b")->tags, cache);
}

}  // namespace
}  // namespace ckv
