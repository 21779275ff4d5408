#include "tools/sim_cli/fork_command.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "sim/replay/fork.h"
#include "sim/simulation.h"
#include "tools/sim_cli/json_text.h"
#include "tools/sim_cli/seed_runner.h"

namespace ckv::sim {

int fork_main(std::shared_ptr<const std::vector<LoadedRecording>> recordings,
              const ReplayOptions& options, const ForkArgs& args) {
  auto refuse = [](const std::string& why) {
    std::cerr << "cluster-kv-sim: " << why << "\n";
    std::printf("{\"error\":\"%s\",\"exit_status\":2}\n", json_escape(why).c_str());
    return 2;
  };
  ReplayOptions replay_options = options;
  replay_options.trace = nullptr;
  replay_options.timeline = nullptr;
  const auto after = Duration(static_cast<int64_t>(args.at_seconds * 1e6));
  auto point = find_fork_point(*recordings, after, replay_options);
  if (!point) return refuse(point.error().detail);
  for (const std::string& s : point->skipped)
    std::printf("left out: %s\n", s.c_str());
  std::printf("%s\n", point->summary.c_str());

  std::string repro = "cluster-kv-sim";
  for (const std::string& d : args.dirs)
    repro += " --replay " + d;
  char at[32];
  std::snprintf(at, sizeof at, "%g", args.at_seconds);
  repro += std::string(" --fork-at ") + at;
  if (options.any_build) repro += " --replay-any-build";

  SimConfig base = fork_config(*point, fork_source(recordings, *point, replay_options),
                               std::chrono::seconds(args.virtual_seconds));
  Timeline timeline("cluster-kv-sim fork", {});
  if (args.seeds == 1 && !args.timeline_file.empty()) {
    std::vector<std::string> lanes;
    for (uint32_t i = 0; i < base.nodes; ++i)
      lanes.push_back("n" + std::to_string(i) + " = " + point->names[i]);
    timeline = Timeline(repro, lanes);
    base.timeline = &timeline;
  }
  if (args.seeds == 1 && args.trace) {
    base.trace_sink = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    };
  }
  uint64_t violated = 0, ops = 0;
  const unsigned jobs = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  try {
    run_seeds(base, args.first_seed, args.seeds, jobs, [&](SimResult&& r) {
      const std::string seed_repro = repro + " --seeds 1 --seed " + std::to_string(r.seed) +
                                     " --virtual-seconds " + std::to_string(args.virtual_seconds);
      ops += r.kv.gets + r.kv.puts + r.kv.deletes + r.kv.lists;
      std::printf("seed %" PRIu64 ": %.1f virtual s, %" PRIu64 " operations, %" PRIu64
                  " member changes, trace %016" PRIx64 ": %s\n",
                  r.seed, static_cast<double>(micros(MonoTime{} + r.virtual_time)) / 1e6,
                  r.kv.gets + r.kv.puts + r.kv.deletes + r.kv.lists, r.member_changes, r.trace_hash,
                  r.violations.empty() ? "no property violated" : "VIOLATION");
      if (r.violations.empty()) return;
      ++violated;
      std::string report = r.report;
      const std::string marker = "  reproduce: ";
      if (auto p = report.rfind(marker); p != std::string::npos)
        report = report.substr(0, p) + marker + seed_repro + " --trace\n";
      std::fputs(report.c_str(), stdout);
      if (base.timeline) {
        for (const Violation& v : r.violations)
          timeline.pin(micros(v.at), v.property + ": " + v.detail, seed_repro);
      }
    });
  } catch (const std::exception& e) {
    return refuse(e.what());
  }
  if (base.timeline) {
    timeline.note(point->summary);
    std::ofstream f(args.timeline_file);
    f << timeline.html();
    if (!f) return refuse("cannot write " + args.timeline_file);
  }
  std::printf("{\"fork_seeds\":%" PRIu64 ",\"nodes\":%u,\"operations\":%" PRIu64
              ",\"violations\":%" PRIu64 "}\n",
              args.seeds, base.nodes, ops, violated);
  return violated > 0 ? 1 : 0;
}

}  // namespace ckv::sim
