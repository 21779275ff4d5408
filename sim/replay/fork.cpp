#include "sim/replay/fork.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "kernel/record/record_format.h"

namespace ckv::sim {

namespace {

Result<record::StartInfo> start_of(const LoadedRecording& recording) {
  record::Reader reader(recording.bytes);
  auto raw = reader.next_raw();
  if (!raw) return Error{raw.error().code, recording.dir + ": " + raw.error().detail};
  auto e = record::Reader::decode(*raw);
  if (!e) return Error{e.error().code, recording.dir + ": " + e.error().detail};
  if (e->type != record::Type::kStart)
    return Error{ErrorCode::kMalformed, recording.dir + ": no start record"};
  return e->start;
}

std::string seconds_after(WallTime t, WallTime origin) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>((t - origin).count()) / 1e6);
  return buf;
}

// Whether a replay that did not stop at the moment ended because the node did (it stopped,
// or crashed: a torn end), not because records are missing.
bool node_ended(const ReplayResult& r) {
  return !r.stopped_at && !r.diverged && !r.lost_middle && !r.fell_behind;
}

// Replays recording `r` up to `at`, keeping its kernel in `kept`; an error when the
// replay diverged before it.
Result<ReplayResult> replay_up_to(const LoadedRecording& r, WallTime at, ReplayOptions options,
                                  ReplayedKernel& kept) {
  options.stop_at = at;
  auto result = replay(r, options, &kept);
  if (!result) return result.error();
  if (result->diverged) {
    return Error{ErrorCode::kInvalidArgument,
                 "the replay diverged before the moment of the fork:\n" + result->report};
  }
  return result;
}

// Replays recording `r` up to `at`, keeping its kernel; an error unless it stopped there.
Result<ReplayedKernel> replay_to(const LoadedRecording& r, WallTime at,
                                 const ReplayOptions& options) {
  ReplayedKernel kept;
  auto result = replay_up_to(r, at, options, kept);
  if (!result) return result.error();
  if (!result->stopped_at || !kept.node) {
    return Error{ErrorCode::kInvalidArgument,
                 r.dir + ": the recording does not reach the moment whole (" +
                     (result->lost_middle ? "its ring dropped the segments before it"
                                          : result->ended_early) +
                     ")"};
  }
  return kept;
}

}  // namespace

Result<ForkPoint> find_fork_point(const std::vector<LoadedRecording>& recordings,
                                  Duration after_start, const ReplayOptions& options) {
  std::vector<record::StartInfo> starts;
  for (const LoadedRecording& r : recordings) {
    auto s = start_of(r);
    if (!s) return s.error();
    starts.push_back(std::move(*s));
  }
  if (starts.empty()) return Error{ErrorCode::kInvalidArgument, "no recording to fork"};
  WallTime origin = starts[0].start.wall;
  for (const auto& s : starts)
    origin = std::min(origin, s.start.wall);
  ForkPoint point;
  point.at = origin + after_start;

  std::map<std::string, Address> known;  // every member a running kernel holds
  std::map<std::string, size_t> recorded;
  for (size_t i = 0; i < recordings.size(); ++i) {
    const record::StartInfo& s = starts[i];
    if (recorded.contains(s.name)) {
      return Error{ErrorCode::kInvalidArgument,
                   recordings[i].dir + ": a second recording of node " + s.name};
    }
    recorded.emplace(s.name, i);
    if (s.start.wall > point.at) {
      point.skipped.push_back(s.name + " (started at " + seconds_after(s.start.wall, origin) +
                              ", after the moment)");
      continue;
    }
    ReplayedKernel kept;
    auto result = replay_up_to(recordings[i], point.at, options, kept);
    if (!result) return result.error();
    if (node_ended(*result)) {
      point.skipped.push_back(s.name + " (its recording ends at " +
                              seconds_after(result->last.wall, origin) + ", before the moment)");
      continue;
    }
    if (!kept.node) {
      return Error{ErrorCode::kInvalidArgument,
                   recordings[i].dir + ": the recording does not reach the moment whole (" +
                       (result->lost_middle ? "its ring dropped the segments before it"
                                            : result->ended_early) +
                       ")"};
    }
    for (const Member& m : kept.node->members())
      known.emplace(std::string(m.name.view()), m.addr);
    point.first_request = std::max(point.first_request, kept.max_request + 1);
    if (point.running.empty()) point.config = s.config;
    point.running.push_back(i);
  }
  if (point.running.empty()) {
    return Error{ErrorCode::kInvalidArgument, "no recorded node was running " +
                                                  seconds_after(point.at, origin) +
                                                  " after the first start"};
  }
  std::string names;
  for (size_t i : point.running) {
    point.names.push_back(starts[i].name);
    names += (names.empty() ? "" : ", ") + starts[i].name + " " + starts[i].address.to_string();
    known.erase(starts[i].name);
  }
  for (const auto& [name, addr] : known) {
    point.down.emplace_back(name, addr);
    point.names.push_back(name);
    names += ", " + name + " " + addr.to_string() + " (down: not recorded running)";
  }
  point.summary = "fork at " + seconds_after(point.at, origin) + " of " + names;
  return point;
}

AdoptionSource fork_source(std::shared_ptr<const std::vector<LoadedRecording>> recordings,
                           ForkPoint point, ReplayOptions options) {
  return [recordings = std::move(recordings), point = std::move(point),
          options = std::move(options)]() {
    Adoption adoption;
    adoption.first_request = point.first_request;
    adoption.key_prefix = "sim-fork/";
    adoption.summary = point.summary;
    for (size_t i : point.running) {
      auto kept = replay_to((*recordings)[i], point.at, options);
      // It replayed to the moment before (find_fork_point): the same build replays the same.
      if (!kept) throw std::logic_error("a fork's replay changed: " + kept.error().detail);
      AdoptedNode a;
      a.name = kept->start.name;
      a.addr = kept->start.address;
      a.config = kept->start.config;
      a.mono_at_start = kept->at.mono + (point.at - kept->at.wall);
      a.wall_at_start = point.at;
      a.watches = std::move(kept->watches);
      a.disk = std::move(kept->disk);
      a.passthrough = std::move(kept->store);
      a.gate = std::move(kept->gate);
      a.kernel = std::move(kept->node);
      adoption.nodes.push_back(std::move(a));
    }
    for (const auto& [name, addr] : point.down) {
      AdoptedNode a;
      a.name = name;
      a.addr = addr;
      a.config = point.config;
      a.wall_at_start = point.at;  // (never run; its clock still counts in the clock gap)
      adoption.nodes.push_back(std::move(a));
    }
    return adoption;
  };
}

SimConfig fork_config(const ForkPoint& point, AdoptionSource source, Duration chaos) {
  SimConfig c;
  c.nodes = point.nodes();
  c.node = point.config;
  c.faults = FaultMode::kSwarm;
  c.chaos = chaos;
  c.warm_up = Duration(0);  // the cluster is formed (or not) as it was recorded
  // The random profile: its clients need no setup (read-modify-write clients first have n0
  // write every key; that profile is not tried on forks).
  c.workload.profile = KvProfile::kRandom;
  // Its stores hold what the recorded nodes stored: bounds, horizons and logs are theirs.
  c.durable_writes = true;
  c.bounded_data = false;
  c.short_horizon = false;
  c.short_logs = false;
  c.adopt = std::move(source);
  c.repro = "(a fork: see its command line)";
  return c;
}

}  // namespace ckv::sim
