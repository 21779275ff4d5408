// cluster-kv-sim: runs the deterministic cluster simulator from the command line.
//
//   cluster-kv-sim --nodes N --seeds K [--first-seed S] [--faults none|swarm]
//                  [--virtual-seconds T] [--no-lifeguard] [--workload kv|random|rmw|none]
//                  [--joins drawn|n0|peers] [--start-spread-ms M] [--lan] [--rolling-upgrade]
//                  [--horizon drawn|short|long]
//   cluster-kv-sim --nodes N --seed S [--trace] [...]
//   --jobs J runs seeds on J threads, with the same output as one; on a terminal, a
//   multi-seed run shows its progress on standard error.
//
// Exit status: 0 when no property was violated, 1 when one was, 2 for bad usage, 3 for an
// internal error. The last line of standard output is always one JSON object: the summary
// of the whole invocation, or {"error": ..., "exit_status": ...} (--help prints only help).
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <unistd.h>

#include "sim/simulation.h"
#include "tools/sim_cli/json_text.h"
#include "tools/sim_cli/replay_command.h"
#include "tools/sim_cli/seed_runner.h"

namespace {

using ckv::sim::FaultMode;
using ckv::sim::json_escape;
using ckv::sim::SimConfig;
using ckv::sim::SimResult;

constexpr const char* kUsage = R"(usage:
  cluster-kv-sim --nodes N --seeds K [--first-seed S] [options]   run K seeds: S, S+1, ...
  cluster-kv-sim --nodes N --seed S [--trace] [options]           run one seed
  cluster-kv-sim --replay DIR [--replay DIR ...] [--trace]        replay a node's recording
                                                                  (--replay --help: more)

options:
  --nodes N              cluster size, 1..60000 (default 5)
  --faults none|swarm    no faults, or a fault profile drawn per seed (default swarm)
  --virtual-seconds T    length of the chaos phase in virtual seconds (default 60); a quiet
                         phase follows until liveness holds or its derived bound passes
  --no-lifeguard         plain SWIM: no local health, nacks or shrinking suspicion
  --probe-interval-ms M  time between probes (default 1000)
  --probe-timeout-ms M   direct probe timeout (default 500; below the probe interval)
  --workload W           client load with the key-value checks: random (gets, puts and
                         deletes from random nodes, once the cluster has long formed), rmw
                         (every node reads a key and writes it back in a loop from the
                         moment the cluster forms), kv (either, drawn from the seed: the
                         default) or none
  --joins J              how nodes join: n0 (only the first node, as --join does), peers (n0
                         and two random peers) or drawn (from the seed: the default)
  --start-spread-ms M    nodes start within M ms of the first (default: drawn from the seed,
                         2000 or 100)
  --ops-per-second R     client operations per virtual second across the cluster (40)
  --keys K               size of the key space (default: drawn from the seed, 8 in half
                         the seeds, where writes conflict often, 64 or 256 in the others)
  --cas-keys N           keys (at most a quarter of them) written only by conditional
                         writes, judged by the compare-and-set checker (default 2; a lie
                         fails a run without faults, and is counted under faults)
  --lan                  one switch's latency (0.05-0.5 ms) instead of one drawn per seed
  --horizon H            tombstone horizon: short (20-40 s, so collection and long
                         absences happen in the run), long (the default 7 days: nothing
                         is collected) or drawn (from the seed, short in half: the default)
  --rolling-upgrade      from the end of the warm-up (10 s), stop each node in turn for 2 s
                         and bring it back speaking a later wire revision (a synthetic one
                         until a real one exists), spread over the chaos phase
  --jobs J               run seeds on J threads (default 1); the output is the same
  --trace                print every trace record of a single-seed run
  --timeline FILE        draw a single-seed run as one self-contained HTML file: a lane per
                         node with the member states it holds, faults shaded, client
                         operations by outcome, invalidation traffic, violations pinned
  --help                 this text

The last line of output is a JSON summary (or an {"error": ...} object). Exit status:
0 no violation, 1 violation, 2 usage error, 3 internal error.)";

struct Options {
  SimConfig base;
  uint64_t first_seed = 1;
  uint64_t seeds = 1;
  bool single = false;
  bool trace = false;
  unsigned jobs = 1;
  std::string timeline;  // --timeline FILE: draw the run there
};

// Ends the program with `status`; the last line of standard output is still one JSON object.
[[noreturn]] void fail(int status, const std::string& why, bool show_usage) {
  std::cerr << "cluster-kv-sim: " << why << "\n";
  if (show_usage) std::cerr << "\n" << kUsage << "\n";
  std::fflush(stdout);
  std::printf("{\"error\":\"%s\",\"exit_status\":%d}\n", json_escape(why).c_str(), status);
  std::exit(status);
}

[[noreturn]] void usage_error(const std::string& why) {
  fail(2, why, true);
}

uint64_t parse_number(std::string_view flag, const char* text, uint64_t min, uint64_t max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max) {
    usage_error(std::string(flag) + " wants a whole number in " + std::to_string(min) + ".." +
                std::to_string(max) + ", not '" + text + "'");
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_seed = false, have_seeds = false, rolling_upgrade = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage << "\n";
      std::exit(0);
    } else if (flag == "--nodes") {
      o.base.nodes = static_cast<uint32_t>(parse_number(flag, value(), 1, 60000));
    } else if (flag == "--seeds") {
      o.seeds = parse_number(flag, value(), 1, 100000000);
      have_seeds = true;
    } else if (flag == "--first-seed") {
      o.first_seed = parse_number(flag, value(), 0, UINT64_MAX);
    } else if (flag == "--seed") {
      o.first_seed = parse_number(flag, value(), 0, UINT64_MAX);
      have_seed = true;
    } else if (flag == "--faults") {
      const std::string_view v = value();
      if (v == "none") {
        o.base.faults = FaultMode::kNone;
      } else if (v == "swarm") {
        o.base.faults = FaultMode::kSwarm;
      } else {
        usage_error("--faults wants none or swarm");
      }
    } else if (flag == "--virtual-seconds") {
      o.base.chaos = std::chrono::seconds(parse_number(flag, value(), 1, 10000000));
    } else if (flag == "--probe-interval-ms") {
      o.base.node.membership.probe_interval =
          std::chrono::milliseconds(parse_number(flag, value(), 2, 3600000));
    } else if (flag == "--probe-timeout-ms") {
      o.base.node.membership.probe_timeout =
          std::chrono::milliseconds(parse_number(flag, value(), 1, 3599999));
    } else if (flag == "--no-lifeguard") {
      o.base.node.membership.lifeguard = false;
    } else if (flag == "--workload") {
      const std::string_view v = value();
      if (v != "kv" && v != "random" && v != "rmw" && v != "none") {
        usage_error("--workload wants kv, random, rmw or none");
      }
      o.base.workload.enabled = v != "none";
      if (v == "random") o.base.workload.profile = ckv::sim::KvProfile::kRandom;
      if (v == "rmw") o.base.workload.profile = ckv::sim::KvProfile::kReadModifyWrite;
    } else if (flag == "--joins") {
      const std::string_view v = value();
      if (v == "n0") {
        o.base.joins = ckv::sim::JoinShape::kFounderOnly;
      } else if (v == "peers") {
        o.base.joins = ckv::sim::JoinShape::kFounderAndPeers;
      } else if (v != "drawn") {
        usage_error("--joins wants drawn, n0 or peers");
      }
    } else if (flag == "--start-spread-ms") {
      o.base.start_spread = std::chrono::milliseconds(parse_number(flag, value(), 0, 3600000));
    } else if (flag == "--ops-per-second") {
      o.base.workload.ops_per_second = static_cast<double>(parse_number(flag, value(), 1, 1000000));
    } else if (flag == "--keys") {
      o.base.workload.keys = static_cast<uint32_t>(parse_number(flag, value(), 1, 1000000));
    } else if (flag == "--cas-keys") {
      o.base.workload.cas_keys = static_cast<uint32_t>(parse_number(flag, value(), 0, 1000000));
    } else if (flag == "--lan") {
      o.base.lan_latency = true;
    } else if (flag == "--horizon") {
      const std::string_view v = value();
      if (v == "short" || v == "long") {
        o.base.short_horizon = v == "short";
      } else if (v != "drawn") {
        usage_error("--horizon wants drawn, short or long");
      }
    } else if (flag == "--rolling-upgrade") {
      rolling_upgrade = true;
    } else if (flag == "--jobs") {
      o.jobs = static_cast<unsigned>(parse_number(flag, value(), 1, 256));
    } else if (flag == "--trace") {
      o.trace = true;
    } else if (flag == "--timeline") {
      o.timeline = value();
    } else {
      usage_error("unknown argument '" + std::string(flag) + "'");
    }
  }
  if (rolling_upgrade) o.base.upgrade = ckv::sim::standard_upgrade(o.base);
  if (have_seed && have_seeds) usage_error("give --seed or --seeds, not both");
  o.single = !have_seeds;
  if (o.single) o.seeds = 1;
  if (o.trace && !o.single) usage_error("--trace works with a single --seed");
  if (!o.timeline.empty() && !o.single) usage_error("--timeline works with a single --seed");
  return o;
}

double secs(ckv::Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

std::string optional_secs(const std::optional<ckv::Duration>& d) {
  if (!d) return "never";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", secs(*d));
  return buf;
}

void print_single(const SimResult& r) {
  std::printf("cluster-kv-sim: seed %" PRIu64 ", %u nodes\n", r.seed, r.nodes);
  std::printf("  faults:            %s\n", r.profile.c_str());
  std::printf("  virtual time:      %.1f s in %.2f s of wall time (%.0fx real time)\n",
              secs(r.virtual_time), r.wall_seconds,
              r.wall_seconds > 0 ? secs(r.virtual_time) / r.wall_seconds : 0.0);
  std::printf("  messages:          %" PRIu64 " delivered, %" PRIu64 " dropped\n", r.delivered,
              r.dropped);
  std::printf("  member changes:    %" PRIu64 " (false failure verdicts: %" PRIu64
              " of healthy nodes, %" PRIu64 " of paused nodes)\n",
              r.member_changes, r.false_failures, r.false_failures_of_paused);
  std::printf(
      "  after faults stop: all live nodes agreed after %s (bound %.0f s); departed "
      "nodes settled after %s (bound %.0f s)\n",
      optional_secs(r.converged_after).c_str(), secs(r.bounds.convergence),
      optional_secs(r.departed_settled_after).c_str(), secs(r.bounds.detection));
  std::printf("  trace:             %" PRIu64 " records, hash %016" PRIx64 "\n", r.trace_records,
              r.trace_hash);
  if (r.kv.enabled) {
    std::printf("  key-value:         %" PRIu64 " gets, %" PRIu64 " puts, %" PRIu64
                " deletes (%s stores); %" PRIu64 " ok, %" PRIu64 " not found, %" PRIu64
                " timed out, %" PRIu64 " lost with their node\n",
                r.kv.gets, r.kv.puts, r.kv.deletes, r.kv.durable_writes ? "durable" : "lossy",
                r.kv.ok, r.kv.not_found, r.kv.timeouts, r.kv.lost_with_process);
    std::printf(
        "  latency (virtual): get local p99 %.3f ms, remote p50/p99 %.3f/%.3f ms, 404 "
        "p50/p99 %.3f/%.3f ms; staleness p50/p99 %.3f/%.3f ms\n",
        r.kv.get_local.p99_ms, r.kv.get_remote.p50_ms, r.kv.get_remote.p99_ms, r.kv.get_404.p50_ms,
        r.kv.get_404.p99_ms, r.kv.staleness.p50_ms, r.kv.staleness.p99_ms);
  }
  std::printf("  result:            %s\n",
              r.violations.empty() ? "no property violated" : "VIOLATION (report above)");
}

// A line on standard error, redrawn at most twice a second: seeds done, violations so
// far, seeds per second and the time left.
class Progress {
 public:
  Progress(uint64_t total, bool shown)
      : total_(total), shown_(shown), start_(std::chrono::steady_clock::now()) {}

  void seed_done(uint64_t violations) {
    ++done_;
    if (!shown_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done_ != total_ && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
    const double left = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
    std::fprintf(stderr,
                 "\r%" PRIu64 "/%" PRIu64 " seeds, %" PRIu64
                 " violating, %.1f seeds/s, %.0f s left   ",
                 done_, total_, violations, rate, left);
    std::fflush(stderr);
  }
  void finish() {
    if (shown_) std::fputc('\n', stderr);
  }

 private:
  const uint64_t total_;
  const bool shown_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t done_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (ckv::sim::wants_replay(argc, argv)) return ckv::sim::replay_main(argc, argv);
  const Options o = parse(argc, argv);
  uint64_t violations = 0;
  double virtual_seconds = 0;
  double wall_seconds = 0;
  uint64_t last_hash = 0;
  uint64_t false_failures = 0;
  ckv::sim::KvResult kv;                                 // counts and samples over every seed
  std::array<uint64_t, ckv::sim::kFaultKinds> faults{};  // injected, over every seed

  SimConfig base = o.base;
  if (o.trace) {
    base.trace_sink = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    };
  }
  std::vector<std::string> lanes;
  for (uint32_t i = 0; i < o.base.nodes && !o.timeline.empty(); ++i)
    lanes.push_back("n" + std::to_string(i));
  ckv::Timeline timeline("cluster-kv-sim seed " + std::to_string(o.first_seed) + ", " +
                             std::to_string(o.base.nodes) + " nodes",
                         lanes);
  if (!o.timeline.empty()) base.timeline = &timeline;
  Progress progress(o.seeds, !o.single && isatty(fileno(stderr)) != 0);
  auto take = [&](SimResult&& r) {
    virtual_seconds += secs(r.virtual_time);
    wall_seconds += r.wall_seconds;
    last_hash = r.trace_hash;
    false_failures += r.false_failures;
    kv.gets += r.kv.gets;
    kv.puts += r.kv.puts;
    kv.deletes += r.kv.deletes;
    kv.ok += r.kv.ok;
    kv.not_found += r.kv.not_found;
    kv.timeouts += r.kv.timeouts;
    kv.errors += r.kv.errors;
    kv.not_current += r.kv.not_current;
    kv.lost_with_process += r.kv.lost_with_process;
    kv.cas.attempts += r.kv.cas.attempts;
    kv.cas.succeeded += r.kv.cas.succeeded;
    kv.cas.precondition_failed += r.kv.cas.precondition_failed;
    kv.cas.unavailable += r.kv.cas.unavailable;
    kv.cas.double_successes += r.kv.cas.double_successes;
    kv.cas.stale_preconditions += r.kv.cas.stale_preconditions;
    if (r.kv.cas.double_successes + r.kv.cas.stale_preconditions > 0 && !o.single) {
      std::printf("seed %" PRIu64 ": conditional writes: %s\n", r.seed,
                  r.kv.cas.first_violation.c_str());
    }
    for (size_t f = 0; f < ckv::sim::kFaultKinds; ++f)
      faults[f] += r.faults[f];
    auto append = [](std::vector<ckv::Duration>& to, const std::vector<ckv::Duration>& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    append(kv.samples.get_local, r.kv.samples.get_local);
    append(kv.samples.get_remote, r.kv.samples.get_remote);
    append(kv.samples.get_404, r.kv.samples.get_404);
    append(kv.samples.put, r.kv.samples.put);
    append(kv.samples.staleness, r.kv.samples.staleness);
    if (!r.violations.empty()) {
      ++violations;
      std::fputs(r.report.c_str(), stdout);
    }
    if (!o.timeline.empty()) {
      SimConfig c = base;
      c.seed = r.seed;
      const std::string repro = ckv::sim::repro_command(c) + " --timeline " + o.timeline;
      timeline.note("faults: " + r.profile);
      timeline.note("reproduce: " + repro);
      timeline.note(r.violations.empty() ? "no property violated"
                                         : std::to_string(r.violations.size()) + " violation(s)");
      for (const auto& v : r.violations)
        timeline.pin(micros(v.at), v.property + ": " + v.detail, repro);
      std::FILE* f = std::fopen(o.timeline.c_str(), "w");
      const std::string html = timeline.html();
      if (f == nullptr || std::fwrite(html.data(), 1, html.size(), f) != html.size()) {
        fail(3, "cannot write " + o.timeline, false);
      }
      std::fclose(f);
    }
    if (o.single) {
      print_single(r);
    } else {
      std::printf("seed %" PRIu64
                  ": %s  %.0f virtual s, agreed %s after faults stopped, "
                  "hash %016" PRIx64 "\n",
                  r.seed, r.violations.empty() ? "ok       " : "VIOLATION", secs(r.virtual_time),
                  optional_secs(r.converged_after).c_str(), r.trace_hash);
    }
    std::fflush(stdout);
    progress.seed_done(violations);
  };
  try {
    ckv::sim::run_seeds(base, o.first_seed, o.seeds, o.jobs, take);
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());  // a configuration the simulator cannot run
  } catch (const std::exception& e) {
    fail(3, std::string("internal error: ") + e.what(), false);
  }
  progress.finish();

  std::printf("{\"seeds\":%" PRIu64
              ",\"nodes\":%u,\"faults\":\"%s\",\"lifeguard\":%s,"
              "\"violations\":%" PRIu64
              ",\"virtual_seconds\":%.3f,\"wall_seconds\":%.3f,"
              "\"false_failures\":%" PRIu64,
              o.seeds, o.base.nodes, to_string(o.base.faults),
              o.base.node.membership.lifeguard ? "true" : "false", violations, virtual_seconds,
              wall_seconds, false_failures);
  if (o.base.workload.enabled) {
    auto pct = [](const char* name, const std::vector<ckv::Duration>& v) {
      const ckv::sim::Percentiles p = ckv::sim::percentiles(v);
      std::printf("\"%s\":{\"p50\":%.3f,\"p99\":%.3f,\"count\":%zu}", name, p.p50_ms, p.p99_ms,
                  p.count);
    };
    std::printf(",\"latency_ms\":{");
    pct("get_local", kv.samples.get_local);
    std::printf(",");
    pct("get_remote", kv.samples.get_remote);
    std::printf(",");
    pct("get_404", kv.samples.get_404);
    std::printf(",");
    pct("put", kv.samples.put);
    std::printf(",");
    pct("staleness", kv.samples.staleness);
    std::printf("},\"operations\":{\"get\":%" PRIu64 ",\"put\":%" PRIu64 ",\"delete\":%" PRIu64
                "},\"outcomes\":{\"ok\":%" PRIu64 ",\"not_found\":%" PRIu64 ",\"timeout\":%" PRIu64
                ",\"error\":%" PRIu64 ",\"not_current\":%" PRIu64 ",\"lost_with_process\":%" PRIu64
                "}",
                kv.gets, kv.puts, kv.deletes, kv.ok, kv.not_found, kv.timeouts, kv.errors,
                kv.not_current, kv.lost_with_process);
    // Conditional writes: the lies (see sim/cas_checker.h) per 10,000 issued.
    const double per10k = kv.cas.attempts == 0 ? 0.0 : 1e4 / static_cast<double>(kv.cas.attempts);
    std::printf(",\"conditional_writes\":{\"issued\":%" PRIu64 ",\"succeeded\":%" PRIu64
                ",\"precondition_failed\":%" PRIu64 ",\"unavailable\":%" PRIu64
                ",\"double_successes\":%" PRIu64 ",\"stale_preconditions\":%" PRIu64
                ",\"lies_per_10k\":%.3f}",
                kv.cas.attempts, kv.cas.succeeded, kv.cas.precondition_failed, kv.cas.unavailable,
                kv.cas.double_successes, kv.cas.stale_preconditions,
                static_cast<double>(kv.cas.double_successes + kv.cas.stale_preconditions) * per10k);
  }
  std::printf(",\"faults_injected\":{");
  for (size_t k = 0; k < ckv::sim::kFaultKinds; ++k) {
    std::printf("%s\"%s\":%" PRIu64, k == 0 ? "" : ",",
                ckv::sim::to_string(static_cast<ckv::sim::FaultKind>(k)), faults[k]);
  }
  std::printf("}");
  if (o.single)
    std::printf(",\"seed\":%" PRIu64 ",\"trace_hash\":\"%016" PRIx64 "\"", o.first_seed, last_hash);
  std::printf("}\n");
  return violations == 0 ? 0 : 1;
}
