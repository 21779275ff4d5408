#include "runtime/cli/check_command.h"

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kernel/kv/version.h"
#include "runtime/cli/check_cluster.h"
#include "runtime/cli/http_client.h"
#include "runtime/text_parse.h"
#include "sim/kv_checker.h"
#include "sim/kv_workload.h"
#include "sim/timeline/timeline.h"

namespace ckv {

namespace po = boost::program_options;

namespace {

enum class Op : uint8_t { kGet, kPut, kDelete };
const char* op_name(Op op) {
  return op == Op::kGet ? "get" : op == Op::kPut ? "put" : "delete";
}

// One operation of the history.
struct Entry {
  uint32_t client = 0;
  uint32_t node = 0;
  Op op = Op::kGet;
  uint32_t key = 0;
  uint64_t op_id = 0;  // puts: the value is sim::value_for(op_id, bytes)
  size_t bytes = 0;
  int64_t invoke_us = 0, complete_us = 0;  // client's steady clock, since the run began
  int64_t invoke_wall_us = 0, complete_wall_us = 0;
  unsigned status = 0;  // 0: no answer
  std::string etag;     // the version the answer carries (X-Cluster-KV-Version for a 404)
  bool current = true;
  std::string body;  // gets: the value read
  ContentType content;
  std::string error;
};

int64_t steady_us(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool version_of(const std::string& etag, Version& v) {
  if (etag.size() < 2 || etag.front() != '"' || etag.back() != '"') return false;
  return parse_version(std::string_view(etag).substr(1, etag.size() - 2), v);
}

struct Settings {
  std::vector<ClientOptions> nodes;
  std::vector<std::string> urls;
  uint32_t clients = 0;
  uint64_t ops = 400;
  uint32_t keys = 8;
  size_t value_bytes = 64;
  Duration quiet = std::chrono::seconds(3);
  std::string history;
  std::string timeline;
  uint64_t seed = 0;
  std::string prefix;
  std::optional<Duration> duration;  // the workload ends then, or after `ops`
  double rate = 0;                   // operations per second per client (0: no pacing)
};

// A fault the check inflicted on its own test cluster, on the checker's clock.
struct FaultSpan {
  uint32_t node;
  // "crash" (SIGKILL, then a restart), "pause" (SIGSTOP, SIGCONT) or "partition, side K"
  std::string kind;
  int64_t from_us, to_us;
};

// After a fault ends, a node takes a while to answer again (a restart, a rejoin).
constexpr int64_t kFaultGraceUs = 5'000'000;

bool excused(const std::vector<FaultSpan>& faults, const Entry& e) {
  for (const FaultSpan& f : faults) {
    if (f.node == e.node && e.complete_us > f.from_us && e.invoke_us < f.to_us + kFaultGraceUs) {
      return true;
    }
  }
  return false;
}

// After the faults, how long the test cluster has to re-form (see the wait for it).
constexpr auto kReformWithin = std::chrono::seconds(75);

// How long a partition lasts, drawn between these: short ones lose messages while every
// member still counts as alive (only retransmission mends them), long ones let the
// failure detector suspect and declare dead the other side (a few probe rounds).
constexpr int64_t kPartitionMinMs = 500, kPartitionMaxMs = 5000;

// Cuts the test cluster in two random sides for a while, then heals it; every node is
// harmed (each side loses the other), so each gets a span, shaded by its side. An error:
// the network could not be cut or healed (it is then healed as far as it can be, and the
// nodes are harmed from the attempt on).
Status partition(CheckCluster& cluster, size_t nodes, std::mt19937_64& rng,
                 std::chrono::steady_clock::time_point t0, std::vector<FaultSpan>& faults) {
  std::vector<bool> side(nodes);
  do {
    for (size_t i = 0; i < nodes; ++i)
      side[i] = rng() % 2 == 1;
  } while (std::all_of(side.begin(), side.end(), [&](bool b) { return b == side[0]; }));
  const int64_t from = steady_us(t0);
  Status done = cluster.partition(side);
  if (done.ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(
        kPartitionMinMs + static_cast<int64_t>(rng() % (kPartitionMaxMs - kPartitionMinMs + 1))));
  }
  if (Status healed = cluster.heal(); !healed.ok() && done.ok()) done = healed;
  const int64_t to = steady_us(t0);
  std::string sides[2];
  for (size_t i = 0; i < nodes; ++i) {
    faults.push_back(FaultSpan{static_cast<uint32_t>(i),
                               side[i] ? "partition, side 1" : "partition, side 0", from, to});
    sides[side[i]] += (sides[side[i]].empty() ? "" : ",") + std::to_string(i);
  }
  if (!done.ok()) return done;
  std::printf("cluster-kv check: partition of nodes %s from %s from %.3f s to %.3f s\n",
              sides[0].c_str(), sides[1].c_str(), static_cast<double>(from) / 1e6,
              static_cast<double>(to) / 1e6);
  return Status{};
}

void run_client(const Settings& s, uint32_t client, std::chrono::steady_clock::time_point t0,
                std::vector<Entry>& out) {
  std::mt19937_64 rng(s.seed * 1000003 + client);
  const uint64_t mine = s.ops / s.clients + (client < s.ops % s.clients ? 1 : 0);
  for (uint64_t i = 0; i < mine; ++i) {
    if (s.duration && std::chrono::steady_clock::now() - t0 >= *s.duration) break;
    if (s.rate > 0) {
      const auto due = t0 + std::chrono::microseconds(
                                static_cast<int64_t>(static_cast<double>(i) * 1e6 / s.rate));
      std::this_thread::sleep_until(due);
    }
    Entry e;
    e.client = client;
    e.node = client;  // one client per node: the node's answers come in the order it gave them
    e.key = static_cast<uint32_t>(rng() % s.keys);
    const uint64_t roll = rng() % 10;
    e.op = roll < 5 ? Op::kGet : roll < 9 ? Op::kPut : Op::kDelete;
    const std::string target = key_target(s.prefix + std::to_string(e.key));
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    if (e.op == Op::kPut) {
      e.op_id = (uint64_t{client} << 32) | (i + 1);
      e.bytes = s.value_bytes;
      body = sim::value_for(e.op_id, e.bytes);
      e.content = sim::content_for(e.op_id);
      if (!e.content.media.empty()) headers.emplace_back("Content-Type", e.content.media);
      if (!e.content.encoding.empty()) headers.emplace_back("Content-Encoding", e.content.encoding);
    }
    e.invoke_us = steady_us(t0);
    e.invoke_wall_us = wall_us();
    auto r = http_call(s.nodes[e.node],
                       op_name(e.op) == std::string("get") ? "GET"
                       : e.op == Op::kPut                  ? "PUT"
                                                           : "DELETE",
                       target, std::move(body), std::move(headers));
    e.complete_us = steady_us(t0);
    e.complete_wall_us = wall_us();
    if (!r) {
      e.error = r.error().detail;
      // Its node is down: not a busy loop of refused connections meanwhile.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else {
      e.status = r->status;
      e.etag = r->header("ETag");
      if (e.etag.empty()) e.etag = r->header("X-Cluster-KV-Version");
      e.current = r->header("X-Cluster-KV-Current") != "false";
      if (e.op == Op::kGet && r->status == 200) {
        e.body = std::move(r->body);
        const std::string media = r->header("Content-Type");
        e.content.media = media == "application/octet-stream" ? "" : media;
        e.content.encoding = r->header("Content-Encoding");
      } else if (r->status >= 300 && r->status != 404) {
        e.error = r->body.substr(0, 200);
      }
    }
    out.push_back(std::move(e));
  }
}

void write_history(const Settings& s, const std::vector<Entry>& history) {
  std::ofstream f(s.history);
  for (const Entry& e : history) {
    f << "{\"client\":" << e.client << ",\"node\":" << json_string(s.urls[e.node]) << ",\"op\":\""
      << op_name(e.op) << "\",\"key\":" << json_string(s.prefix + std::to_string(e.key))
      << ",\"invoke_us\":" << e.invoke_us << ",\"complete_us\":" << e.complete_us
      << ",\"invoke_wall_us\":" << e.invoke_wall_us << ",\"status\":" << e.status
      << ",\"etag\":" << json_string(e.etag) << ",\"current\":" << (e.current ? "true" : "false");
    if (e.op == Op::kPut) f << ",\"value_id\":" << e.op_id << ",\"bytes\":" << e.bytes;
    if (e.op == Op::kGet && e.status == 200) f << ",\"bytes\":" << e.body.size();
    if (!e.error.empty()) f << ",\"error\":" << json_string(e.error);
    f << "}\n";
  }
}

double percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))]) / 1e3;
}

}  // namespace

int run_check_command(int argc, const char* const* argv) {
  po::options_description d(
      "cluster-kv check: runs a bounded workload against the nodes and checks the history "
      "with the simulator's key-value checker (see the README, \"When something goes "
      "wrong\").\n\nUsage:\n  cluster-kv check --node URL [--node URL ...] [flags]\n"
      "  cluster-kv check --start N [--faults kill,pause,partition] [flags]\n\nFlags");
  std::string token_file, cacert, timeout = "10s", quiet = "3s";
  std::string faults_flag, fault_every_flag, duration_flag;
  size_t start_nodes = 0;
  uint16_t start_port = 19600;
  Settings s;
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("node", po::value<std::vector<std::string>>(&s.urls),
     "a node's HTTP address (http://HOST:PORT, https://..., or HOST[:PORT]); give each node")
    ("start", po::value<size_t>(&start_nodes),
     "instead of --node: start a test cluster of this many nodes on loopback, or in network "
     "namespaces with --faults partition (this binary, a temporary directory, removed after)")
    ("start-port", po::value<uint16_t>(&start_port)->default_value(19600),
     "with --start: node i serves HTTP on this port + i, gossip on this port + 100 + i (with "
     "partitions: on 10.216.i.2 and 10.215.0.i+1:7946)")
    ("faults", po::value<std::string>(&faults_flag),
     "with --start: harm the test cluster while the workload runs: kill (SIGKILL a node, "
     "restart it a second later on its data), pause (SIGSTOP it for 1.5 s) and partition "
     "(cut the cluster in two for 0.5 to 5 s; needs root: the nodes then run in network "
     "namespaces), e.g. kill,pause,partition")
    ("fault-every", po::value<std::string>(&fault_every_flag)->default_value("3s"),
     "with --faults: time between faults")
    ("duration", po::value<std::string>(&duration_flag),
     "run the workload this long (or until --ops are done); default 20s with --faults")
    ("rate", po::value<double>(&s.rate),
     "operations per second per client (default: as fast as answers come; 100 with "
     "--faults)")
    ("clients", po::value<uint32_t>(&s.clients),
     "concurrent clients, each on a node of its own, the first nodes first (default: one per "
     "node; at most one per node, so that each node's answers reach the checker in the order "
     "the node gave them)")
    ("ops", po::value<uint64_t>(&s.ops)->default_value(400), "operations in all")
    ("keys", po::value<uint32_t>(&s.keys)->default_value(8),
     "keys written (few keys: writes conflict often)")
    ("value-bytes", po::value<size_t>(&s.value_bytes)->default_value(64), "size of each value")
    ("quiet", po::value<std::string>(&quiet)->default_value("3s"),
     "how long to wait after the workload before every node must answer alike")
    ("history", po::value<std::string>(&s.history), "write the history here (JSON lines)")
    ("timeline", po::value<std::string>(&s.timeline),
     "draw the history as one self-contained HTML file: a lane per node, each operation "
     "coloured by its answer, violations pinned")
    ("seed", po::value<uint64_t>(&s.seed), "the workload's seed (default: random; printed)")
    ("token-file", po::value<std::string>(&token_file), "a file holding a write token")
    ("cacert", po::value<std::string>(&cacert), "the CA of the nodes' HTTPS certificates")
    ("timeout", po::value<std::string>(&timeout)->default_value("10s"), "per request");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(d).run(), vm);
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster-kv check: %s\n", e.what());
    return 2;
  }
  auto q = quiet == "0" ? Result<Duration>(Duration(0)) : parse_duration(quiet);
  auto t = parse_duration(timeout);
  if (!q || !t) return std::fprintf(stderr, "cluster-kv check: bad --quiet or --timeout\n"), 2;
  s.quiet = *q;
  bool kill_faults = false, pause_faults = false, partition_faults = false;
  for (size_t at = 0; at < faults_flag.size();) {
    size_t comma = faults_flag.find(',', at);
    if (comma == std::string::npos) comma = faults_flag.size();
    const std::string f = faults_flag.substr(at, comma - at);
    if (f == "kill") {
      kill_faults = true;
    } else if (f == "pause") {
      pause_faults = true;
    } else if (f == "partition") {
      partition_faults = true;
    } else {
      std::fprintf(stderr, "cluster-kv check: --faults takes kill, pause and partition, not '%s'\n",
                   f.c_str());
      return 2;
    }
    at = comma + 1;
  }
  const bool faulting = kill_faults || pause_faults || partition_faults;
  auto every = parse_duration(fault_every_flag);
  if (!every || *every < std::chrono::milliseconds(500)) {
    std::fprintf(stderr, "cluster-kv check: --fault-every must be at least 500ms\n");
    return 2;
  }
  if (!duration_flag.empty()) {
    auto length = parse_duration(duration_flag);
    if (!length) return std::fprintf(stderr, "cluster-kv check: bad --duration\n"), 2;
    s.duration = *length;
  } else if (faulting) {
    s.duration = std::chrono::seconds(20);
  }
  if (faulting && !vm.count("rate")) s.rate = 100;
  if (faulting && vm["ops"].defaulted()) s.ops = 1'000'000;
  if ((start_nodes == 0) == s.urls.empty()) {
    std::fprintf(stderr, "cluster-kv check: give --node for each node, or --start N\n");
    return 2;
  }
  if (faulting && start_nodes == 0) {
    std::fprintf(stderr,
                 "cluster-kv check: --faults harms only a cluster it starts itself "
                 "(--start N)\n");
    return 2;
  }
  if (start_nodes > 16 || s.rate < 0) {
    std::fprintf(stderr, "cluster-kv check: --start takes 1..16 nodes, --rate at least 0\n");
    return 2;
  }
  std::unique_ptr<CheckCluster> cluster;
  if (start_nodes > 0) {
    if (partition_faults && start_nodes < 2) {
      std::fprintf(stderr, "cluster-kv check: a partition needs at least 2 nodes\n");
      return 2;
    }
    auto started = CheckCluster::start(start_nodes, start_port, partition_faults);
    if (!started) {
      std::fprintf(stderr, "cluster-kv check: %s\n", started.error().detail.c_str());
      return 3;
    }
    cluster = std::move(*started);
    s.urls = cluster->urls();
    std::printf("cluster-kv check: started %zu nodes in %s\n", start_nodes, cluster->dir().c_str());
  }
  if (faulting && !vm.count("timeout")) *t = std::chrono::seconds(2);
  if (s.clients == 0) s.clients = static_cast<uint32_t>(s.urls.size());
  if (s.clients > s.urls.size() || s.ops == 0 || s.keys == 0 || s.keys > 100000 ||
      s.value_bytes > (size_t{1} << 20)) {
    std::fprintf(stderr,
                 "cluster-kv check: --clients 1..(nodes given), --ops and --keys at "
                 "least 1, --value-bytes at most 1 MiB\n");
    return 2;
  }
  std::string token;
  if (!token_file.empty()) {
    std::ifstream f(token_file);
    if (!std::getline(f, token)) {
      std::fprintf(stderr, "cluster-kv check: cannot read --token-file %s\n", token_file.c_str());
      return 2;
    }
  }
  for (const std::string& url : s.urls) {
    auto parsed = parse_node_url(url);
    if (!parsed) {
      std::fprintf(stderr, "cluster-kv check: --node %s: %s\n", url.c_str(),
                   parsed.error().detail.c_str());
      return 2;
    }
    s.nodes.push_back(ClientOptions{*parsed, token, cacert, *t});
  }
  if (!vm.count("seed")) s.seed = std::random_device{}();
  char run_id[24];
  std::snprintf(run_id, sizeof run_id, "%016" PRIx64,
                static_cast<uint64_t>(s.seed * 0x9e3779b97f4a7c15ULL));
  s.prefix = std::string("_check/") + run_id + "/k";
  std::printf("cluster-kv check: %zu node(s), %u clients, %" PRIu64
              " operations on %u keys "
              "under _check/%s/, seed %" PRIu64 "\n",
              s.nodes.size(), s.clients, s.ops, s.keys, run_id, s.seed);

  // The workload.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<Entry>> per_client(s.clients);
  std::vector<std::thread> threads;
  for (uint32_t c = 0; c < s.clients; ++c)
    threads.emplace_back([&, c] { run_client(s, c, t0, per_client[c]); });
  // Written by the fault thread, read after it joined.
  std::vector<FaultSpan> faults;
  size_t inflicted = 0;
  std::string harm_failed;  // the network could not be cut or healed: no fair judgement
  std::atomic<bool> workload_done{false};
  std::thread harm;
  if (faulting) {
    harm = std::thread([&] {
      std::mt19937_64 rng(s.seed ^ 0xfa17);
      std::vector<std::string> kinds;
      if (kill_faults) kinds.push_back("crash");
      if (pause_faults) kinds.push_back("pause");
      if (partition_faults) kinds.push_back("partition");
      for (;;) {
        const auto next = std::chrono::steady_clock::now() + *every;
        while (std::chrono::steady_clock::now() < next && !workload_done)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (workload_done) return;
        FaultSpan f{static_cast<uint32_t>(rng() % s.urls.size()), kinds[rng() % kinds.size()],
                    steady_us(t0), 0};
        ++inflicted;
        if (f.kind == "partition") {
          if (Status cut = partition(*cluster, s.urls.size(), rng, t0, faults); !cut.ok()) {
            harm_failed = cut.error().detail;
            std::fprintf(stderr, "cluster-kv check: %s\n", harm_failed.c_str());
            return;
          }
          continue;
        }
        if (f.kind == "crash") {
          cluster->kill(f.node);
          std::this_thread::sleep_for(std::chrono::seconds(1));
          if (Status r = cluster->restart(f.node); !r.ok()) {
            std::fprintf(stderr, "cluster-kv check: restarting node %u: %s\n", f.node,
                         r.error().detail.c_str());
          }
        } else {
          cluster->pause(f.node);
          std::this_thread::sleep_for(std::chrono::milliseconds(1500));
          cluster->resume(f.node);
        }
        f.to_us = steady_us(t0);
        std::printf("cluster-kv check: %s of node %u from %.3f s to %.3f s\n", f.kind.c_str(),
                    f.node, static_cast<double>(f.from_us) / 1e6,
                    static_cast<double>(f.to_us) / 1e6);
        faults.push_back(std::move(f));
      }
    });
  }
  for (std::thread& th : threads)
    th.join();
  workload_done = true;
  if (harm.joinable()) harm.join();
  bool reformed = true;  // after the faults, every node saw every node alive again
  if (cluster) {
    // Every node back, and seeing every other, before the quiet period. Sides of a
    // partition that declared each other dead find each other again when a node tries a
    // failed member (one every 30 s, serf's reconnect interval): allow two rounds.
    const auto back_from = std::chrono::steady_clock::now();
    const auto give_up = back_from + kReformWithin;
    for (size_t i = 0; i < s.urls.size(); ++i) {
      while (!cluster->sees_alive(i, s.urls.size())) {
        if (std::chrono::steady_clock::now() >= give_up) {
          reformed = false;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - back_from).count();
    if (reformed) {
      std::printf(
          "cluster-kv check: the workload ended; every node saw every node alive %.1f s "
          "later\n",
          took);
    } else {
      std::printf(
          "cluster-kv check: the workload ended; the cluster did not re-form within "
          "%.0f s\n",
          took);
    }
  }
  std::vector<Entry> history;
  for (auto& v : per_client)
    for (Entry& e : v)
      history.push_back(std::move(e));
  std::sort(history.begin(), history.end(),
            [](const Entry& a, const Entry& b) { return a.complete_us < b.complete_us; });
  size_t unreachable = 0, harmed = 0;
  for (const Entry& e : history) {
    if (e.status != 0) continue;
    (excused(faults, e) ? harmed : unreachable) += 1;
  }

  // The widest gap between two nodes' clocks. A write stamped from the node's own clock
  // (logical 0: the hybrid clock took no other node's time) says the node's offset from
  // the client's clock was within [version - complete, version - invoke]; over all such
  // writes a node's offset lies in [lo, hi], and two nodes' clocks differ by at most
  // hi(i) - lo(j). A node with no such write leaves the gap unbounded: real-time order is
  // then judged with the widest request time instead.
  std::vector<int64_t> lo(s.nodes.size(), INT64_MIN), hi(s.nodes.size(), INT64_MAX);
  int64_t longest_request = 0;
  for (const Entry& e : history) {
    longest_request = std::max(longest_request, e.complete_wall_us - e.invoke_wall_us);
    Version v;
    if (e.op == Op::kGet || e.status != 200 || !version_of(e.etag, v) || v.logical != 0) continue;
    const auto vw = static_cast<int64_t>(v.wall_us);
    lo[e.node] = std::max(lo[e.node], vw - e.complete_wall_us);
    hi[e.node] = std::min(hi[e.node], vw - e.invoke_wall_us);
  }
  int64_t gap_us = 0;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    for (size_t j = 0; j < s.nodes.size(); ++j) {
      gap_us = hi[i] == INT64_MAX || lo[j] == INT64_MIN ? std::max(gap_us, longest_request)
                                                        : std::max(gap_us, hi[i] - lo[j]);
    }
  }
  const Duration max_gap(gap_us + 1);

  // The checker, fed in the order answers came.
  sim::KvChecker checker(static_cast<uint32_t>(s.nodes.size()), s.keys);
  std::vector<int64_t> write_done;  // completion times of acknowledged writes, in order
  const std::vector<bool> heard(s.nodes.size(), true);
  std::map<uint32_t, std::vector<std::pair<Version, int64_t>>> acked;  // key -> (version, done)
  std::vector<int64_t> staleness;
  uint64_t stale = 0, gets = 0;
  // Writes enter the checker in the order they were acknowledged, except one a get returned
  // (a put's value, a delete's 404) before its own client heard it acknowledged: it enters
  // just before that get (it was stamped by then), and not again at its acknowledgement. The
  // checker's clock never goes back, so "acknowledged before a get began" is a prefix of what it
  // was told.
  std::map<Version, const Entry*> writes;  // acknowledged puts and deletes, by version
  for (const Entry& e : history) {
    Version w;
    if (e.op != Op::kGet && e.status == 200 && version_of(e.etag, w)) writes.emplace(w, &e);
  }
  std::set<Version> fed;
  // The unanswered write of the key that read `e` returned, if any: a put whose value is
  // the one read, or a delete (for a 404) begun before the read ended.
  std::set<const Entry*> claimed;
  auto unanswered_write = [&](const Entry& read) -> const Entry* {
    for (const Entry& w : history) {
      if (w.status != 0 || w.op == Op::kGet || w.key != read.key || claimed.count(&w) ||
          w.invoke_us > read.complete_us) {
        continue;
      }
      const bool matches = read.status == 200
                               ? w.op == Op::kPut && read.body == sim::value_for(w.op_id, w.bytes)
                               : w.op == Op::kDelete;
      if (!matches) continue;
      claimed.insert(&w);
      return &w;
    }
    return nullptr;
  };
  // A write whose answer never came (its node was killed, say) but that was stored, as a
  // read shows: the checker learns it as written and never acknowledged.
  auto learn_unanswered = [&](const Entry& read, const Version& v, MonoTime at) {
    const Entry* lost = unanswered_write(read);
    if (lost == nullptr) return;
    sim::WriteRecord w{lost->key,  v, lost->op == Op::kDelete, lost->op_id, lost->bytes,
                       lost->node, at};
    w.started = MonoTime{Duration(lost->invoke_us)};
    checker.on_unacknowledged_write(w);
    fed.insert(v);
  };
  int64_t clock_us = 0;
  auto feed_write = [&](const Entry& e, const Version& v) {
    const MonoTime at{Duration(clock_us)};
    sim::WriteRecord w{e.key, v, e.op == Op::kDelete, e.op_id, e.bytes, e.node, at};
    w.started = MonoTime{Duration(e.invoke_us)};
    checker.on_write(at, w, max_gap);
    write_done.push_back(clock_us);
    acked[e.key].emplace_back(v, clock_us);
    fed.insert(v);
  };
  for (const Entry& e : history) {
    clock_us = std::max(clock_us, e.complete_us);
    const MonoTime at{Duration(clock_us)};
    Version v;
    const bool versioned = version_of(e.etag, v);
    if (e.status == 0) continue;  // unanswered: counted, not judged (see below)
    if (e.status >= 500 && e.op != Op::kGet) {
      checker.on_error(at, e.node, excused(faults, e), std::string(op_name(e.op)) + ": " + e.error);
      continue;
    }
    if (e.op != Op::kGet) {
      if ((e.status != 200 && e.status != 204) || !versioned) continue;  // a 404 delete
      if (!fed.count(v)) feed_write(e, v);
      continue;
    }
    if ((e.status == 200 || e.status == 404) && versioned && !fed.count(v)) {
      if (auto it = writes.find(v); it != writes.end()) {
        feed_write(*it->second, v);
      } else {
        learn_unanswered(e, v, at);
      }
    }
    Reply r;
    r.op = ClientOp::kGet;
    r.current = e.current;
    r.remote = false;  // HTTP does not say; each node is held to its own history
    if (versioned) r.version = v;
    if (e.status == 200) {
      r.status = ReplyStatus::kOk;
      r.value = e.body;
      r.content = e.content;
    } else if (e.status == 404) {
      r.status = ReplyStatus::kNotFound;
    } else if (e.status == 504) {
      r.status = ReplyStatus::kTimeout;
    } else {
      checker.on_error(at, e.node, excused(faults, e),
                       "get answered " + std::to_string(e.status) + ": " + e.error);
      continue;
    }
    const uint64_t before = static_cast<uint64_t>(
        std::lower_bound(write_done.begin(), write_done.end(), e.invoke_us) - write_done.begin());
    checker.on_get(at, e.node, e.key, MonoTime{Duration(e.invoke_us)}, before, r, heard);
    // Staleness: how long ago the newest write it missed was acknowledged.
    ++gets;
    int64_t missed = -1;
    for (const auto& [wv, done] : acked[e.key]) {
      if (done < e.invoke_us && wv > r.version && (missed < 0 || done < missed)) missed = done;
    }
    if (missed >= 0) {
      ++stale;
      staleness.push_back(e.complete_us - missed);
    }
  }

  // Quiet, then every node must answer every key alike (in a cluster that re-formed: in
  // one still in pieces, that would be the pieces disagreeing).
  if (!reformed) {
    checker.report(MonoTime{Duration(steady_us(t0))}, "the cluster re-forms after faults",
                   "not every node saw every node alive within " +
                       std::to_string(std::chrono::seconds(kReformWithin).count()) +
                       " s after the workload (convergence not checked)");
  }
  if (reformed) std::this_thread::sleep_for(s.quiet);
  for (uint32_t key = 0; key < s.keys && reformed; ++key) {
    std::vector<std::pair<uint32_t, Reply>> answers;
    for (uint32_t n = 0; n < s.nodes.size(); ++n) {
      auto r = http_call(s.nodes[n], "GET", key_target(s.prefix + std::to_string(key)));
      Reply reply;
      if (!r) {
        reply.status = ReplyStatus::kError;
        reply.error = r.error().detail;
      } else {
        Version v;
        std::string etag = r->header("ETag");
        if (etag.empty()) etag = r->header("X-Cluster-KV-Version");
        if (version_of(etag, v)) reply.version = v;
        reply.status = r->status == 200   ? ReplyStatus::kOk
                       : r->status == 404 ? ReplyStatus::kNotFound
                                          : ReplyStatus::kError;
        reply.current = r->header("X-Cluster-KV-Current") != "false";
        reply.remote = true;
        if (r->status == 200) {
          reply.value = r->body;
          const std::string media = r->header("Content-Type");
          reply.content.media = media == "application/octet-stream" ? "" : media;
          reply.content.encoding = r->header("Content-Encoding");
        }
        if (!reply.version.is_zero() && !fed.count(reply.version) &&
            (r->status == 200 || r->status == 404)) {
          Entry read;
          read.key = key;
          read.status = r->status;
          read.body = reply.value;
          read.complete_us = steady_us(t0);
          learn_unanswered(read, reply.version, MonoTime{Duration(read.complete_us)});
        }
      }
      answers.emplace_back(n, std::move(reply));
    }
    checker.check_convergence(MonoTime{Duration(steady_us(t0))}, key, answers, true);
  }

  if (!s.history.empty()) write_history(s, history);
  if (!s.timeline.empty()) {
    std::string repro = "cluster-kv check";
    for (const std::string& url : s.urls)
      repro += " --node " + url;
    repro += " --ops " + std::to_string(s.ops) + " --keys " + std::to_string(s.keys) + " --seed " +
             std::to_string(s.seed);
    Timeline tl("cluster-kv check: " + std::to_string(s.nodes.size()) + " node(s), seed " +
                    std::to_string(s.seed),
                s.urls);
    tl.note("the same workload again (the cluster's state will differ): " + repro);
    for (const Entry& e : history) {
      const Timeline::Outcome outcome = e.status == 200 || e.status == 204 ? Timeline::Outcome::kOk
                                        : e.status == 404 ? Timeline::Outcome::kNotFound
                                        : e.status == 504 || e.status == 0
                                            ? Timeline::Outcome::kTimeout
                                        : e.status == 412 ? Timeline::Outcome::kPreconditionFailed
                                                          : Timeline::Outcome::kError;
      tl.op(e.complete_us, e.node, outcome,
            std::string(op_name(e.op)) + " " + s.prefix + std::to_string(e.key) + ": " +
                std::to_string(e.status) + " " + e.etag);
    }
    for (const FaultSpan& f : faults)
      tl.shade(f.from_us, f.to_us, f.node, f.kind);
    for (const sim::Violation& v : checker.violations())
      tl.pin(micros(v.at), v.property + ": " + v.detail, repro);
    std::ofstream f(s.timeline);
    f << tl.html();
    if (!f) std::fprintf(stderr, "cluster-kv check: cannot write %s\n", s.timeline.c_str());
  }
  const auto& violations = checker.violations();
  for (const sim::Violation& v : violations) {
    std::printf("VIOLATION %s at %.3f s: %s\n", v.property.c_str(),
                static_cast<double>(micros(v.at)) / 1e6, v.detail.c_str());
  }
  std::printf("%zu operations (%" PRIu64
              " gets, %zu writes acknowledged), %zu unanswered (and %zu while their node was "
              "harmed); %zu faults; widest clock gap measured %.3f ms\n",
              history.size(), gets, write_done.size(), unreachable, harmed, inflicted,
              static_cast<double>(gap_us) / 1e3);
  std::printf("stale reads: %" PRIu64 " of %" PRIu64 "; staleness p50 %.3f ms, p99 %.3f ms\n",
              stale, gets, percentile(staleness, 0.5), percentile(staleness, 0.99));
  if (!s.history.empty()) std::printf("history written to %s\n", s.history.c_str());
  std::printf("%s\n", violations.empty() ? "no violation" : "VIOLATIONS (above)");
  if (!harm_failed.empty()) {
    std::fprintf(stderr,
                 "cluster-kv check: the test network could not be cut or healed, so the "
                 "faults stopped there and the cluster may have stayed in pieces: %s\n",
                 harm_failed.c_str());
    return 3;
  }
  if (!violations.empty()) return 1;
  if (unreachable > 0) {
    std::fprintf(stderr,
                 "cluster-kv check: %zu operation(s) got no answer (a node could not be "
                 "reached): the history is incomplete\n",
                 unreachable);
    return 3;
  }
  return 0;
}

}  // namespace ckv
