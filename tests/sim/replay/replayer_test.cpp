// The replayer against recordings made here, in memory: a node run through a recording
// NodeHost (a peer's messages crafted by hand), condensed as the flight recorder does,
// then replayed. A faithful recording replays with every output matched; a recording
// changed in any input, answer or output diverges, at the input that changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "kernel/kv/mem_store.h"
#include "kernel/record/condenser.h"
#include "kernel/record/node_host.h"
#include "kernel/wire/codec.h"
#include "sim/replay/replayer.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

const Address kSelf{0x0a000001, 7946};
const Address kPeer{0x0a000002, 7946};
constexpr const char* kBuild = "test-build";

// Runs a node for a while: it founds a cluster, hears of a peer, takes puts, gets, deletes,
// a conditional put and a delete decided by the key's owner, and fires its timers; the gate's
// output is taken after every input and committed when due, as the runtime does. Returns the raw
// records.
std::vector<uint8_t> run_recorded_node(uint64_t seed = 7) {
  MemStore store(true);
  record::Writer writer;
  NodeConfig config;
  NodeHost host(store, config.membership, &writer);
  record::StartInfo info;
  info.build = kBuild;
  info.name = "n0";
  info.address = kSelf;
  info.seed = seed;
  info.start = Now{MonoTime(1s), WallTime(1'700'000'000'000'000us)};
  info.config = config;
  EXPECT_TRUE(host.create(info, std::nullopt).ok());
  Now now = info.start;
  Effects fx;
  auto settle = [&] {
    host.take(fx);
    if (host.gate().commit_due()) (void)host.commit(fx);
    fx.clear();
  };
  host.join(now, {});
  settle();
  const wire::Message alive = wire::Alive{1, "p1", kPeer, {}, true};
  const std::vector<uint8_t> packet = wire::encode_packet(std::span(&alive, 1));
  uint64_t request = 0;
  for (int i = 0; i < 60; ++i) {
    now.mono += 37ms;
    now.wall += 37ms;
    if (i == 3) {
      host.on_message(now, kPeer, Channel::kDatagram, packet);
      settle();
    }
    const std::string key = "k" + std::to_string(i % 7);
    host.put(now, ++request, key, "value " + std::to_string(i), std::nullopt, {});
    settle();
    host.get(now, ++request, "k" + std::to_string(i % 5), 100ms);
    settle();
    if (i % 11 == 0) {
      host.erase(now, ++request, key);
      settle();
    }
    if (i == 20) {
      WriteCondition absent;
      absent.kind = WriteCondition::Kind::kAbsent;
      host.write_if(now, ++request, "cas", false, "first", std::nullopt, absent, {});
      settle();
    }
    if (i == 40) {  // a delete through the owner's path, whatever the key holds
      host.write_if(now, ++request, "k3", true, "", std::nullopt, WriteCondition{}, {});
      settle();
    }
    while (host.node().next_deadline() <= now.mono) {
      host.on_timer(now);
      settle();
    }
  }
  return writer.take();
}

LoadedRecording condense(const std::vector<uint8_t>& raw, record::ValueMode mode) {
  record::Condenser condenser(mode, 0x5eed);
  record::Writer out;
  EXPECT_TRUE(condenser.condense(raw, out).ok());
  LoadedRecording rec;
  rec.dir = "memory";
  rec.bytes = out.take();
  return rec;
}

ReplayOptions options() {
  ReplayOptions o;
  o.build = kBuild;
  return o;
}

// Rewrites the recording: `change` may alter each record (decoded) before it is written
// back; returning false drops it.
template <class F>
LoadedRecording rewrite(const LoadedRecording& rec, F change) {
  record::Reader reader(rec.bytes);
  record::Writer out;
  while (!reader.at_end()) {
    auto raw = reader.next_raw();
    EXPECT_TRUE(raw.ok());
    auto e = record::Reader::decode(*raw);
    EXPECT_TRUE(e.ok());
    std::vector<uint8_t> copy(raw->begin(), raw->end());
    if (!change(*e, out)) continue;
    out.raw(copy);
  }
  LoadedRecording changed = rec;
  changed.bytes = out.take();
  return changed;
}

TEST(Replayer, AFaithfulRecordingReplaysWithEveryOutputMatched) {
  for (auto mode : {record::ValueMode::kWhole, record::ValueMode::kMasked}) {
    const LoadedRecording rec = condense(run_recorded_node(), mode);
    auto r = replay(rec, options());
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_FALSE(r->diverged) << r->report;
    EXPECT_GT(r->inputs, 150u);
    EXPECT_GT(r->outputs_checked, 100u);
    EXPECT_GT(r->writes_checked, 60u);
    EXPECT_TRUE(r->ended_early.empty()) << r->ended_early;
  }
}

TEST(Replayer, AMaskedRecordingHoldsNoValue) {
  const std::vector<uint8_t> raw = run_recorded_node();
  const std::string needle = "value 4";
  auto holds = [&](const std::vector<uint8_t>& bytes) {
    return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end();
  };
  EXPECT_TRUE(holds(raw));
  EXPECT_TRUE(holds(condense(raw, record::ValueMode::kWhole).bytes));
  EXPECT_FALSE(holds(condense(raw, record::ValueMode::kMasked).bytes));
}

TEST(Replayer, TheSameRunRecordsTheSameBytes) {
  EXPECT_EQ(run_recorded_node(), run_recorded_node());
  EXPECT_NE(run_recorded_node(7), run_recorded_node(8));
}

TEST(Replayer, AnotherSeedDivergesAtTheFirstInputItChanges) {
  const LoadedRecording rec = condense(run_recorded_node(), record::ValueMode::kWhole);
  const LoadedRecording reseeded = rewrite(rec, [](record::Event& e, record::Writer& out) {
    if (e.type != record::Type::kStart) return true;
    e.start.seed += 1;
    out.start(e.start);
    return false;
  });
  auto r = replay(reseeded, options());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->diverged);
  EXPECT_NE(r->report.find("diverged at input"), std::string::npos) << r->report;
}

TEST(Replayer, AChangedValueDivergesAtThatPut) {
  const LoadedRecording rec = condense(run_recorded_node(), record::ValueMode::kWhole);
  int puts = 0;
  const LoadedRecording changed = rewrite(rec, [&](record::Event& e, record::Writer& out) {
    if (e.type != record::Type::kPut || ++puts != 10) return true;
    out.put(e.now, e.request, e.key, "another value", e.duration, e.content);
    return false;
  });
  auto r = replay(changed, options());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->diverged);
  EXPECT_NE(r->report.find("put 'k2' = 'another value'"), std::string::npos) << r->report;
}

TEST(Replayer, AMissingStoreAnswerOrOutputIsADivergence) {
  const LoadedRecording rec = condense(run_recorded_node(), record::ValueMode::kWhole);
  for (auto type : {record::Type::kStoreGet, record::Type::kStoreWrite, record::Type::kReleased}) {
    int seen = 0;
    const LoadedRecording changed = rewrite(
        rec, [&](record::Event& e, record::Writer&) { return !(e.type == type && ++seen == 5); });
    auto r = replay(changed, options());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->diverged) << record::to_string(type);
  }
}

TEST(Replayer, AChangedOutputIsReportedWithBothSides) {
  const LoadedRecording rec = condense(run_recorded_node(), record::ValueMode::kWhole);
  int seen = 0;
  const LoadedRecording changed = rewrite(rec, [&](record::Event& e, record::Writer& out) {
    if (e.type != record::Type::kReleased || e.outputs.empty() || ++seen != 7) return true;
    e.outputs[0].hash ^= 1;
    out.released(e.outputs);
    return false;
  });
  auto r = replay(changed, options());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->diverged);
  EXPECT_NE(r->report.find("recorded:"), std::string::npos) << r->report;
  EXPECT_NE(r->report.find("replayed:"), std::string::npos) << r->report;
  EXPECT_NE(r->report.find("decoded"), std::string::npos) << r->report;
}

TEST(Replayer, ARecordingOfAnotherBuildIsRefusedUnlessAsked) {
  const LoadedRecording rec = condense(run_recorded_node(), record::ValueMode::kWhole);
  ReplayOptions other = options();
  other.build = "another-build";
  auto refused = replay(rec, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("recorded by build test-build"), std::string::npos);
  other.any_build = true;
  auto r = replay(rec, other);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->diverged);
}

TEST(Replayer, DigestsAreCheckedEveryThousandInputs) {
  // A long run: its digest records are checked, and a wrong one is a divergence.
  MemStore store(true);
  record::Writer writer;
  NodeConfig config;
  NodeHost host(store, config.membership, &writer);
  record::StartInfo info;
  info.build = kBuild;
  info.name = "n0";
  info.address = kSelf;
  info.start = Now{MonoTime(1s), WallTime(1'700'000'000'000'000us)};
  info.config = config;
  ASSERT_TRUE(host.create(info, std::nullopt).ok());
  Effects fx;
  Now now = info.start;
  for (int i = 0; i < 2500; ++i) {
    now.mono += 1ms;
    now.wall += 1ms;
    host.put(now, static_cast<uint64_t>(i + 1), "k" + std::to_string(i % 50), "v", std::nullopt,
             {});
    host.take(fx);
    (void)host.commit(fx);
    fx.clear();
  }
  const LoadedRecording rec = condense(writer.take(), record::ValueMode::kWhole);
  auto r = replay(rec, options());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->diverged) << r->report;
  EXPECT_EQ(r->digests_checked, 2u);
  const LoadedRecording wrong = rewrite(rec, [](record::Event& e, record::Writer& out) {
    if (e.type != record::Type::kDigest) return true;
    out.digest(e.number, e.digest + 1);
    return false;
  });
  auto w = replay(wrong, options());
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->diverged);
  EXPECT_NE(w->report.find("running digest"), std::string::npos) << w->report;
}

}  // namespace
}  // namespace ckv::sim
