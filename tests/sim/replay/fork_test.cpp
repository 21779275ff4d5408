// Forks of recordings made here, in memory: two nodes on one machine run through recording
// NodeHosts (their messages delivered a millisecond later, their timers fired, their gates
// committed every few milliseconds, a client watching a's keys), condensed as the flight
// recorder does, then replayed up to a moment and run on by the simulator.
// The fork carries the recorded state (members, store, clocks, request ids) and runs under
// faults with every checker on; with its keys unprefixed, the checkers see the recorded
// values under the workload's own key names and report them.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <memory>
#include <string>

#include "kernel/kv/mem_store.h"
#include "kernel/record/condenser.h"
#include "kernel/record/node_host.h"
#include "sim/kv_workload.h"
#include "sim/replay/fork.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBuild = "test-build";
const std::array<Address, 2> kAddr = {Address{0x7f000001, 17850}, Address{0x7f000001, 17851}};
// A machine up for three days: its monotonic clock is far from the simulation's.
const Now kStart{MonoTime(72h + 5s), WallTime(1'790'000'000'000'000us)};

constexpr auto kMoment = 2s;  // after the start: where the tests fork

using StoreContents = std::map<std::string, Record, std::less<>>;

StoreContents contents(Store& store) {
  StoreContents out;
  (void)store.for_each([&](std::string_view key, const Record& r) {
    out.emplace(std::string(key), r);
    return true;
  });
  return out;
}

struct Recorded {
  std::vector<LoadedRecording> recordings;
  std::shared_ptr<const std::vector<LoadedRecording>> shared;  // the same, for fork_source
  uint64_t max_request = 0;
  // Each node's store just before the moment, with the writes its gate had staged then.
  std::array<StoreContents, 2> at_moment;
  uint64_t max_request_at_moment = 0;
};

// a founds the cluster, b joins it; for 3 s both take puts, gets and deletes of key0..key5
// (the workload's own key names). Messages take 1 ms; the gate is run as the runtime runs it.
Recorded record_two_nodes() {
  std::array<MemStore, 2> stores{MemStore(true), MemStore(true)};
  std::array<record::Writer, 2> writers;
  std::array<std::unique_ptr<NodeHost>, 2> hosts;
  NodeConfig config;
  Now now = kStart;
  for (int i = 0; i < 2; ++i) {
    hosts[i] = std::make_unique<NodeHost>(stores[i], config.membership, &writers[i]);
    record::StartInfo info;
    info.build = kBuild;
    info.name = i == 0 ? "a" : "b";
    info.address = kAddr[i];
    info.seed = 11 + i;
    info.start = now;
    info.config = config;
    EXPECT_TRUE(hosts[i]->create(info, std::nullopt).ok());
  }
  struct InFlight {
    MonoTime at;
    int to;
    Channel channel;
    std::vector<uint8_t> bytes;
  };
  std::vector<InFlight> flight;
  int step = 0;
  auto settle = [&](int i) {
    Effects fx;
    hosts[i]->take(fx);
    // Committed every 7 ms, as a burst's writes are: in between, writes are staged and
    // their replies and watch events held.
    if (hosts[i]->gate().commit_due() && step % 7 == 6) (void)hosts[i]->commit(fx);
    for (Send& s : fx.sends) {
      for (int to = 0; to < 2; ++to)
        if (s.to == kAddr[to])
          flight.push_back({now.mono + 1ms, to, s.channel, std::move(s.bytes)});
    }
  };
  hosts[0]->join(now, {});
  hosts[0]->watch("key");  // a client of a watching every key the test writes
  settle(0);
  hosts[1]->join(now, std::span(&kAddr[0], 1));
  settle(1);
  Recorded out;
  for (; step < 3000; ++step) {
    now.mono += 1ms;
    now.wall += 1ms;
    if (now.wall == kStart.wall + kMoment) {  // (inputs at the moment are after the fork)
      for (int i = 0; i < 2; ++i) {
        out.at_moment[i] = contents(stores[i]);
        for (uint32_t k = 0; k < 6; ++k) {
          const Record* staged = nullptr;
          if (!hosts[i]->gate().staged_store().staged(key_name(k), &staged)) continue;
          if (staged == nullptr) {
            out.at_moment[i].erase(key_name(k));
          } else {
            out.at_moment[i].insert_or_assign(key_name(k), *staged);
          }
        }
      }
      out.max_request_at_moment = out.max_request;
    }
    std::vector<InFlight> due;
    std::erase_if(flight, [&](InFlight& f) {
      if (f.at > now.mono) return false;
      due.push_back(std::move(f));
      return true;
    });
    for (InFlight& f : due) {
      hosts[f.to]->on_message(now, kAddr[1 - f.to], f.channel, f.bytes);
      settle(f.to);
    }
    for (int i = 0; i < 2; ++i) {
      while (hosts[i]->node().next_deadline() <= now.mono) {
        hosts[i]->on_timer(now);
        settle(i);
      }
    }
    if (step == 1998) {  // a put a moment before the moment: staged, its reply held
      EXPECT_NE(step % 7, 6);
      hosts[0]->put(now, ++out.max_request, key_name(1), "just before", std::nullopt, {});
      settle(0);
      EXPECT_TRUE(hosts[0]->gate().writes_staged());
    }
    if (step % 20 == 0 && step > 300) {
      const int i = (step / 20) % 2;
      const std::string key = key_name(static_cast<uint32_t>(step / 20 % 6));
      if (step % 140 == 0) {
        hosts[i]->erase(now, ++out.max_request, key);
      } else {
        hosts[i]->put(now, ++out.max_request, key, "recorded " + std::to_string(step), std::nullopt,
                      {});
      }
      settle(i);
      hosts[1 - i]->get(now, ++out.max_request, key, 100ms);
      settle(1 - i);
    }
  }
  for (int i = 0; i < 2; ++i) {
    record::Condenser condenser(record::ValueMode::kWhole, 0x5eed);
    record::Writer condensed;
    EXPECT_TRUE(condenser.condense(writers[i].take(), condensed).ok());
    LoadedRecording rec;
    rec.dir = i == 0 ? "memory-a" : "memory-b";
    rec.bytes = condensed.take();
    out.recordings.push_back(std::move(rec));
  }
  out.shared = std::make_shared<const std::vector<LoadedRecording>>(out.recordings);
  return out;
}

ReplayOptions options() {
  ReplayOptions o;
  o.build = kBuild;
  return o;
}

const Recorded& recorded() {
  static const Recorded r = record_two_nodes();
  return r;
}

TEST(Fork, CarriesTheRecordedStateToTheMoment) {
  const Recorded& rec = recorded();
  auto point = find_fork_point(rec.recordings, kMoment, options());
  ASSERT_TRUE(point.ok()) << point.error().detail;
  EXPECT_EQ(point->running.size(), 2u);
  EXPECT_TRUE(point->down.empty());
  EXPECT_EQ(point->at, kStart.wall + kMoment);
  // Above every request the recorded clients made before the moment.
  EXPECT_EQ(point->first_request, rec.max_request_at_moment + 1);

  Adoption adoption = fork_source(rec.shared, *point, options())();
  ASSERT_EQ(adoption.nodes.size(), 2u);
  for (const AdoptedNode& a : adoption.nodes) {
    ASSERT_TRUE(a.kernel);
    EXPECT_EQ(a.kernel->members().count(MemberState::kAlive), 2u) << a.name;
    // Its clocks go on from the moment: both recorded on one machine.
    EXPECT_EQ(a.mono_at_start, kStart.mono + kMoment);
    EXPECT_EQ(a.wall_at_start, kStart.wall + kMoment);
  }
  // Each store is the recorded node's store at the moment, with what it had staged then,
  // record for record (the recordings began on empty stores, so every record went through
  // them; the staged writes are written at the moment, their output lost in flight).
  for (size_t i = 0; i < 2; ++i) {
    const StoreContents forked = contents(*adoption.nodes[i].disk);
    EXPECT_GE(forked.size(), 4u);
    EXPECT_TRUE(forked == rec.at_moment[i]) << adoption.nodes[i].name << ": " << forked.size()
                                            << " records, recorded " << rec.at_moment[i].size();
  }
}

TEST(Fork, RunsOnUnderFaultsWithEveryCheckerOn) {
  const Recorded& rec = recorded();
  auto point = find_fork_point(rec.recordings, kMoment, options());
  ASSERT_TRUE(point.ok()) << point.error().detail;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SimConfig c = fork_config(*point, fork_source(rec.shared, *point, options()), 20s);
    c.seed = seed;
    const SimResult r = simulate(c);
    EXPECT_TRUE(r.violations.empty()) << r.report;
    EXPECT_GT(r.kv.puts, 50u);
    EXPECT_GT(r.kv.ok, 100u);
    EXPECT_EQ(simulate(c).trace_hash, r.trace_hash) << "seed " << seed << " is not deterministic";
  }
}

TEST(Fork, ACrashedAdoptedNodeRestartsOnItsStore) {
  // (Swarm faults never crash one of two nodes: at most a third of a cluster goes down.)
  const Recorded& rec = recorded();
  auto point = find_fork_point(rec.recordings, kMoment, options());
  ASSERT_TRUE(point.ok()) << point.error().detail;
  SimConfig c = fork_config(*point, fork_source(rec.shared, *point, options()), 20s);
  c.faults = FaultMode::kScripted;
  c.script = {FaultAction{MonoTime(3s), FaultKind::kCrash, 0, 2s}};
  Simulation sim(c);
  const SimResult r = sim.run();
  EXPECT_TRUE(r.violations.empty()) << r.report;
  EXPECT_EQ(r.faults[static_cast<size_t>(FaultKind::kCrash)], 1u);
  ASSERT_TRUE(sim.node(0).running());
  EXPECT_EQ(sim.node(0).name, "a");
  EXPECT_TRUE(sim.node(0).passthrough == nullptr);  // a process of its own, on its store
  // What a stored before the moment is still in its store.
  const Record* before = sim.node(0).store->peek(key_name(1));
  ASSERT_NE(before, nullptr);
  EXPECT_GT(r.kv.ok, 100u);
}

TEST(Fork, TheCheckersSeeTheRecordedValuesUnderUnprefixedKeys) {
  // The planted bug: the fork's workload on the keys the recording wrote. The checkers
  // know nothing of the recorded writes, so a read that returns one is a value no write
  // of theirs made: a fork that carried no store, or ran with its checkers off, passes.
  const Recorded& rec = recorded();
  auto point = find_fork_point(rec.recordings, kMoment, options());
  ASSERT_TRUE(point.ok()) << point.error().detail;
  AdoptionSource source = fork_source(rec.shared, *point, options());
  SimConfig c = fork_config(
      *point,
      [source] {
        Adoption a = source();
        a.key_prefix.clear();
        return a;
      },
      20s);
  c.workload.keys = 6;
  c.faults = FaultMode::kNone;
  const SimResult r = simulate(c);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.report.find("VIOLATION of \"integrity\""), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("which no put of this key wrote"), std::string::npos) << r.report;
}

TEST(Fork, AMemberWithNoRecordingIsDownForGood) {
  // Only a's recording: b is a member a knows, down from the moment on.
  const Recorded& rec = recorded();
  const std::vector<LoadedRecording> only_a = {rec.recordings[0]};
  auto point = find_fork_point(only_a, kMoment, options());
  ASSERT_TRUE(point.ok()) << point.error().detail;
  ASSERT_EQ(point->down.size(), 1u);
  EXPECT_EQ(point->down[0].first, "b");
  EXPECT_EQ(point->down[0].second, kAddr[1]);
  const auto recordings = std::make_shared<const std::vector<LoadedRecording>>(only_a);
  // Its wall clock is the moment's too: the clock gap the checks allow stays the cluster's.
  EXPECT_EQ(fork_source(recordings, *point, options())().nodes[1].wall_at_start, point->at);
  SimConfig c = fork_config(*point, fork_source(recordings, *point, options()), 20s);
  const SimResult r = simulate(c);
  EXPECT_TRUE(r.violations.empty()) << r.report;
  EXPECT_GT(r.kv.ok, 50u);
}

TEST(Fork, AMomentNoRecordingReachesIsRefused) {
  const Recorded& rec = recorded();
  auto point = find_fork_point(rec.recordings, 60s, options());
  ASSERT_FALSE(point.ok());
  EXPECT_NE(point.error().detail.find("no recorded node was running"), std::string::npos)
      << point.error().detail;
}

TEST(Fork, ARecordingOfAnotherBuildIsRefused) {
  ReplayOptions other = options();
  other.build = "another-build";
  auto point = find_fork_point(recorded().recordings, kMoment, other);
  ASSERT_FALSE(point.ok());
  EXPECT_NE(point.error().detail.find("recorded by build test-build"), std::string::npos)
      << point.error().detail;
}

}  // namespace
}  // namespace ckv::sim
