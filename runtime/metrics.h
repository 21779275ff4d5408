// Metrics: the node's counters and latency histograms, rendered in Prometheus' text format
// for GET /_cluster/metrics.
//
// record_request() is lock-free and may be called from any thread; render() reads the
// counters as they are (each one exact, the set not a snapshot) plus a NodeView taken on
// the kernel's strand.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "kernel/core/time.h"
#include "runtime/http/http_api.h"
#include "runtime/node_driver.h"
#include "runtime/store/record_cache.h"

namespace ckv {

class Metrics {
 public:
  // The HTTP statuses counted one by one; any other is counted as "other".
  static constexpr std::array<unsigned, 14> kStatuses = {200, 304, 400, 404, 405, 412, 413,
                                                         431, 500, 501, 503, 504, 507, 0};
  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 15> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  void record_request(Route route, HttpMethod method, unsigned status, Duration latency);
  std::string render(const NodeView& view, const TransportStats& transport, uint64_t store_keys,
                     const RecordCache::Stats& record_cache) const;
  // The HTTP server's connection counters, rendered with the rest.
  const std::shared_ptr<HttpConnectionStats>& connections() const { return connections_; }

 private:
  static constexpr size_t kMethods = kHttpMethodCount;
  // The HTTP part: requests by route, method and status, connections, latency.
  void render_http(std::string& out) const;
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_us{0};
  };
  std::array<std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kMethods>, kRouteCount>
      requests_{};
  std::array<Histogram, kMethods> latency_;  // key requests, by method
  std::shared_ptr<HttpConnectionStats> connections_ = std::make_shared<HttpConnectionStats>();
};

}  // namespace ckv
