#include "tools/sim_cli/replay_command.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/build_info.h"
#include "sim/replay/replayer.h"
#include "tools/sim_cli/fork_command.h"
#include "tools/sim_cli/json_text.h"

namespace ckv::sim {

namespace {

constexpr const char* kUsage = R"(usage:
  cluster-kv-sim --replay DIR [--replay DIR ...] [--trace] [--timeline FILE]
                 [--replay-any-build]

Replays what a node recorded with `cluster-kv --record DIR` through a fresh kernel of this
build and checks every output against the recording. DIR is the --record directory (its
latest run is replayed) or one run-... directory in it. With several recordings (one per
node), each is replayed and every message one of them received from another is checked
against what the other's replay sent.

  --trace              print every input and every output as it is replayed
  --timeline FILE      draw the replayed nodes as one self-contained HTML file, a lane each
                       (by wall-clock time): member states, client replies, invalidations
  --replay-any-build   replay a recording made by another build (it will differ where the
                       builds do: the report shows the first input where they do)

Fork: explore from a recorded moment.
  cluster-kv-sim --replay DIR [--replay DIR ...] --fork-at T [--seeds K] [--seed S]
                 [--virtual-seconds N] [--trace] [--timeline FILE]

Replays every recording up to T seconds after the earliest recorded start (by the
recorded wall clocks), each output checked, then runs the simulator on from there for K
seeds (default 1, from S, default 1): its own faults (partitions, crashes, pauses, loss,
clock steps, disk faults) for N virtual seconds (default 30), then a quiet phase; its own
workload, on keys under "sim-fork/"; every checker on. The recorded nodes keep their names,
addresses, configs, clocks and stores (each store as the recording showed it: whole when the
recording began on an empty data directory). A member they know that was not recorded
running at T is down for good. Messages in flight at T are lost. In reports, nodes are
n0, n1, ... in the order the summary line names them.
Exit status: 0 no seed violated a property, 1 one did (its report and reproduce command
are printed), 2 the recordings cannot be forked at T (e.g. a replay diverged before it).

A recording that ends in a torn block (the node crashed) replays up to it. One whose ring
dropped segments after the first replays its start only, and exits 2.

Exit status: 0 every output matched, 1 a replay diverged (the report says where), 2 bad
usage, or a recording this build cannot replay (whole).)";

int refuse(int status, const std::string& why) {
  std::cerr << "cluster-kv-sim: " << why << "\n";
  std::printf("{\"error\":\"%s\",\"exit_status\":%d}\n", json_escape(why).c_str(), status);
  return status;
}

constexpr std::chrono::seconds kLinkMargin{1};

// Every message a replayed node received from another replayed node must be one that
// node's replay sent to it. Only over the span both recordings cover.
std::string check_links(const std::vector<ReplayResult>& results, uint64_t& checked) {
  for (const ReplayResult& to : results) {
    for (const ReplayResult& from : results) {
      if (&to == &from) continue;
      std::multimap<uint64_t, const Link*> sent;
      for (const Link& l : from.sent) {
        if (l.peer == to.address) sent.emplace(l.hash, &l);
      }
      for (const Link& l : to.received) {
        if (l.peer != from.address) continue;
        // Within the span the sender's recording covers, a second inside it at each end:
        // the two recordings' clocks may be apart, and a sender that crashed sent what
        // the torn end of its recording lost.
        if (l.at < from.first.wall + kLinkMargin || l.at > from.last.wall - kLinkMargin) continue;
        auto it = sent.find(l.hash);
        if (it == sent.end()) {
          return to.name + " received a " +
                 (l.channel == Channel::kStream ? std::string("stream message")
                                                : std::string("datagram")) +
                 " from " + from.name + " (" + from.address.to_string() + ") that the replay of " +
                 from.name + " never sent";
        }
        sent.erase(it);
        ++checked;
      }
    }
  }
  return {};
}

}  // namespace

bool wants_replay(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--replay") return true;
  }
  return false;
}

int replay_main(int argc, char** argv) {
  std::vector<std::string> dirs;
  std::string timeline_file;
  bool trace = false;
  std::optional<ForkArgs> fork;
  auto number = [&](int& i, double& out) {  // the flag's value: a number, 0 or more
    if (i + 1 >= argc) return false;
    char* end = nullptr;
    out = std::strtod(argv[++i], &end);
    return end != argv[i] && *end == '\0' && out >= 0 && out < 1e9;
  };
  ReplayOptions options;
  options.build = std::string(build_describe());
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage << "\n";
      return 0;
    } else if (flag == "--replay") {
      if (i + 1 >= argc) return refuse(2, "--replay needs a directory");
      dirs.emplace_back(argv[++i]);
    } else if (flag == "--fork-at" || flag == "--seeds" || flag == "--seed" ||
               flag == "--virtual-seconds") {
      if (!fork) fork.emplace();
      double v = 0;
      if (!number(i, v)) return refuse(2, std::string(flag) + " needs a number");
      if (flag == "--fork-at") fork->at_seconds = v;
      if (flag == "--seeds") fork->seeds = static_cast<uint64_t>(v);
      if (flag == "--seed") fork->first_seed = static_cast<uint64_t>(v);
      if (flag == "--virtual-seconds") fork->virtual_seconds = static_cast<uint64_t>(v);
      if (flag == "--fork-at") fork->at_given = true;
    } else if (flag == "--trace") {
      trace = true;
      options.trace = [](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
      };
    } else if (flag == "--timeline") {
      if (i + 1 >= argc) return refuse(2, "--timeline needs a file");
      timeline_file = argv[++i];
    } else if (flag == "--replay-any-build") {
      options.any_build = true;
    } else {
      std::cerr << kUsage << "\n";
      return refuse(2, "unknown argument with --replay: '" + std::string(flag) + "'");
    }
  }
  std::vector<LoadedRecording> loaded;
  std::vector<std::string> lanes;
  for (const std::string& dir : dirs) {
    auto l = load_recording(dir);
    if (!l) return refuse(2, l.error().detail);
    loaded.push_back(std::move(*l));
    lanes.push_back(loaded.back().dir);
  }
  if (fork) {
    if (!fork->at_given)
      return refuse(2, "--seeds, --seed and --virtual-seconds go with --fork-at");
    if (fork->seeds < 1) return refuse(2, "--seeds must be at least 1");
    if (fork->virtual_seconds < 1) return refuse(2, "--virtual-seconds must be at least 1");
    if (dirs.empty()) return refuse(2, "--fork-at needs --replay DIR");
    fork->dirs = dirs;
    fork->trace = trace;
    fork->timeline_file = timeline_file;
    if (fork->seeds > 1 && (trace || !timeline_file.empty()))
      return refuse(2, "--trace and --timeline go with one seed (--seeds 1)");
    return fork_main(std::make_shared<const std::vector<LoadedRecording>>(std::move(loaded)),
                     options, *fork);
  }
  Timeline timeline("cluster-kv-sim --replay: " + std::to_string(dirs.size()) + " recording(s)",
                    lanes);
  if (!timeline_file.empty()) options.timeline = &timeline;
  std::vector<ReplayResult> results;
  for (size_t i = 0; i < loaded.size(); ++i) {
    options.timeline_lane = static_cast<uint32_t>(i);
    auto r = replay(loaded[i], options);
    if (!r) return refuse(2, r.error().detail);
    results.push_back(std::move(*r));
  }
  bool diverged = false;
  bool masked = false;
  for (const ReplayResult& r : results) {
    masked = masked || r.values == record::ValueMode::kMasked;
    std::printf("replay of %s (%s, %s): %" PRIu64 " inputs over %.3f s, %" PRIu64
                " outputs and %" PRIu64 " store writes checked, %" PRIu64 " digests: %s\n",
                r.name.c_str(), r.dir.c_str(),
                r.values == record::ValueMode::kMasked ? "values masked" : "values whole", r.inputs,
                static_cast<double>(micros(r.last.mono) - micros(r.first.mono)) / 1e6,
                r.outputs_checked, r.writes_checked, r.digests_checked,
                r.diverged ? "DIVERGED" : "every output matched");
    if (!r.ended_early.empty())
      std::printf("  the recording ends early: %s\n", r.ended_early.c_str());
    if (r.diverged) {
      std::fputs(r.report.c_str(), stdout);
      diverged = true;
    }
  }
  uint64_t links = 0;
  std::string link_error;
  if (!diverged && results.size() > 1) {
    if (masked) {
      std::printf(
          "messages between the recordings are not cross-checked: values are masked "
          "with a key of each recording's own\n");
    } else {
      link_error = check_links(results, links);
      if (link_error.empty()) {
        std::printf("%" PRIu64
                    " messages between the recorded nodes matched a send of the "
                    "replayed sender\n",
                    links);
      } else {
        std::printf("the recordings disagree: %s\n", link_error.c_str());
        diverged = true;
      }
    }
  }
  bool lost = false;
  for (const ReplayResult& r : results) {
    if (!r.lost_middle) continue;
    lost = true;
    std::printf(
        "%s cannot be replayed whole: only its start was (raise --record-mb to keep a "
        "whole run)\n",
        r.dir.c_str());
  }
  if (!timeline_file.empty()) {
    std::string repro = "cluster-kv-sim";
    for (const std::string& dir : dirs)
      repro += " --replay " + dir;
    for (const ReplayResult& r : results) {
      timeline.note(r.name + ": " + r.dir + " (" + std::to_string(r.inputs) + " inputs)");
      if (r.diverged) {
        timeline.pin(r.last.wall.time_since_epoch().count(),
                     "replay of " + r.name + " diverged: " + r.report, repro + " --trace");
      }
    }
    std::ofstream f(timeline_file);
    f << timeline.html();
    if (!f) return refuse(2, "cannot write " + timeline_file);
  }
  uint64_t inputs = 0, outputs = 0;
  for (const ReplayResult& r : results) {
    inputs += r.inputs;
    outputs += r.outputs_checked + r.writes_checked;
  }
  std::printf("{\"recordings\":%zu,\"inputs\":%" PRIu64 ",\"outputs_checked\":%" PRIu64
              ",\"links_checked\":%" PRIu64 ",\"diverged\":%s}\n",
              results.size(), inputs, outputs, links, diverged ? "true" : "false");
  return diverged ? 1 : lost ? 2 : 0;
}

}  // namespace ckv::sim
