#include "runtime/metrics.h"

#include <cstdio>

namespace ckv {
namespace {

void line(std::string& out, const char* name, const std::string& labels, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += " ";
  out += buf;
  out += "\n";
}

void help(std::string& out, const char* name, const char* type, const char* text) {
  out += std::string("# HELP ") + name + " " + text + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Metrics::record_request(Route route, HttpMethod method, unsigned status, Duration latency) {
  size_t s = kStatuses.size() - 1;
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) s = i;
  }
  auto m = static_cast<size_t>(method);
  requests_[static_cast<size_t>(route)][m][s].fetch_add(1, std::memory_order_relaxed);
  if (route != Route::kKey) return;
  Histogram& h = latency_[m];
  double seconds = static_cast<double>(latency.count()) / 1e6;
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b])
    b++;
  h.buckets[b].fetch_add(1, std::memory_order_relaxed);
  h.count.fetch_add(1, std::memory_order_relaxed);
  h.sum_us.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
}

void Metrics::render_http(std::string& out) const {
  help(out, "ckv_http_requests_total", "counter", "HTTP requests by route, method and status.");
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t m = 0; m < kMethods; ++m) {
      for (size_t s = 0; s < kStatuses.size(); ++s) {
        uint64_t n = requests_[r][m][s].load(std::memory_order_relaxed);
        if (n == 0) continue;
        std::string status = kStatuses[s] ? std::to_string(kStatuses[s]) : "other";
        line(out, "ckv_http_requests_total",
             std::string("route=\"") + to_string(static_cast<Route>(r)) + "\",method=\"" +
                 to_string(static_cast<HttpMethod>(m)) + "\",status=\"" + status + "\"",
             static_cast<double>(n));
      }
    }
  }
  help(out, "ckv_http_connections", "gauge", "HTTP connections open now.");
  line(out, "ckv_http_connections", "", static_cast<double>(connections_->open.load()));
  help(out, "ckv_http_connections_refused_total", "counter",
       "HTTP connections over --http-max-connections, answered 503 and closed.");
  line(out, "ckv_http_connections_refused_total", "",
       static_cast<double>(connections_->refused.load()));
  help(out, "ckv_http_timeouts_total", "counter",
       "Requests not received (408) or responses not read within --http-read-timeout.");
  line(out, "ckv_http_timeouts_total", "", static_cast<double>(connections_->timed_out.load()));
  help(out, "ckv_http_request_duration_seconds", "histogram",
       "Latency of key requests (GET, PUT, ...) from parsed request to response.");
  for (size_t m = 0; m < kMethods; ++m) {
    const Histogram& h = latency_[m];
    uint64_t count = h.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    std::string method = std::string("method=\"") + to_string(static_cast<HttpMethod>(m)) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      char le[32];
      if (b < kBuckets.size()) {
        std::snprintf(le, sizeof le, "%g", kBuckets[b]);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      line(out, "ckv_http_request_duration_seconds_bucket", method + ",le=\"" + le + "\"",
           static_cast<double>(cumulative));
    }
    line(out, "ckv_http_request_duration_seconds_sum", method,
         static_cast<double>(h.sum_us.load(std::memory_order_relaxed)) / 1e6);
    line(out, "ckv_http_request_duration_seconds_count", method, static_cast<double>(count));
  }
}

namespace {

void render_members_and_store(std::string& out, const NodeView& view, uint64_t store_keys,
                              const RecordCache::Stats& record_cache) {
  help(out, "ckv_members", "gauge", "Members this node knows, by state (itself included).");
  std::array<size_t, wire::kMemberStateCount> by_state{};
  for (const MemberInfo& m : view.members)
    by_state[static_cast<size_t>(m.state)]++;
  for (size_t s = 0; s < by_state.size(); ++s) {
    line(out, "ckv_members",
         std::string("state=\"") + to_string(static_cast<MemberState>(s)) + "\"",
         static_cast<double>(by_state[s]));
  }
  help(out, "ckv_store_keys", "gauge", "Records in the store (RocksDB's estimate).");
  line(out, "ckv_store_keys", "", static_cast<double>(store_keys));
  help(out, "ckv_record_cache_lookups_total", "counter",
       "Store reads by whether the record cache held the record.");
  line(out, "ckv_record_cache_lookups_total", "result=\"hit\"",
       static_cast<double>(record_cache.hits));
  line(out, "ckv_record_cache_lookups_total", "result=\"miss\"",
       static_cast<double>(record_cache.misses));
  help(out, "ckv_record_cache_bytes", "gauge",
       "Memory held by the record cache (estimated; --record-cache-mb bounds it).");
  line(out, "ckv_record_cache_bytes", "", static_cast<double>(record_cache.bytes));
}

void render_gossip(std::string& out, const NodeView& view, const TransportStats& transport) {
  help(out, "ckv_gossip_messages_total", "counter",
       "Node-to-node messages by channel and direction.");
  auto load = [](const std::atomic<uint64_t>& a) { return static_cast<double>(a.load()); };
  line(out, "ckv_gossip_messages_total", "channel=\"udp\",direction=\"in\"",
       load(transport.datagrams_in));
  line(out, "ckv_gossip_messages_total", "channel=\"udp\",direction=\"out\"",
       load(transport.datagrams_out));
  line(out, "ckv_gossip_messages_total", "channel=\"tcp\",direction=\"in\"",
       load(transport.frames_in));
  line(out, "ckv_gossip_messages_total", "channel=\"tcp\",direction=\"out\"",
       load(transport.frames_out));
  help(out, "ckv_gossip_bytes_total", "counter", "Node-to-node bytes by direction.");
  line(out, "ckv_gossip_bytes_total", "direction=\"in\"", load(transport.bytes_in));
  line(out, "ckv_gossip_bytes_total", "direction=\"out\"", load(transport.bytes_out));
  help(out, "ckv_gossip_dropped_total", "counter", "Node-to-node traffic dropped, by reason.");
  line(out, "ckv_gossip_dropped_total", "reason=\"foreign\"", load(transport.foreign_dropped));
  line(out, "ckv_gossip_dropped_total", "reason=\"oversized\"", load(transport.oversized_dropped));
  line(out, "ckv_gossip_dropped_total", "reason=\"undecodable\"",
       static_cast<double>(view.stats.decode_errors));
  line(out, "ckv_gossip_dropped_total", "reason=\"stream_lost\"",
       load(transport.stream_messages_lost));
  help(out, "ckv_gossip_rejected_total", "counter",
       "Node-to-node messages and connections refused: sealed with no key of ours or "
       "tampered with (auth), or plaintext to an encrypted node and the reverse (mode).");
  line(out, "ckv_gossip_rejected_total", "reason=\"auth\"", load(transport.auth_rejected));
  line(out, "ckv_gossip_rejected_total", "reason=\"mode\"", load(transport.mode_rejected));
  help(out, "ckv_gossip_keyring_keys", "gauge",
       "Keys in the gossip keyring; 0 when gossip is not encrypted.");
  line(out, "ckv_gossip_keyring_keys", "", load(transport.keyring_keys));
}

// Every counter of the kernel (kernel/stats.h names them), and the driver's fast hits.
void render_node_counters(std::string& out, const NodeView& view) {
  for (const NodeCounter& c : kNodeCounters) {
    help(out, c.metric, "counter", c.help);
    line(out, c.metric, "", static_cast<double>(view.stats.*c.field));
  }
  help(out, "ckv_decode_errors_by_code_total", "counter",
       "Packets the wire decoder rejected, by why.");
  for (size_t code = 0; code < kErrorCodeCount; ++code) {
    line(out, "ckv_decode_errors_by_code_total",
         std::string("code=\"") + to_string(static_cast<ErrorCode>(code)) + "\"",
         static_cast<double>(view.stats.decode_errors_by_code[code]));
  }
  help(out, "ckv_gets_fast_total", "counter",
       "Gets answered from a current local copy on the HTTP thread, without the kernel.");
  line(out, "ckv_gets_fast_total", "", static_cast<double>(view.fast_hits));
}

}  // namespace

std::string Metrics::render(const NodeView& view, const TransportStats& transport,
                            uint64_t store_keys, const RecordCache::Stats& record_cache) const {
  std::string out;
  render_http(out);
  render_members_and_store(out, view, store_keys, record_cache);
  render_gossip(out, view, transport);
  render_node_counters(out, view);
  return out;
}

}  // namespace ckv
