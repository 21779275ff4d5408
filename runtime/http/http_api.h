// HttpApi: what each HTTP request means, independent of the HTTP library that parsed it.
//
//   GET|HEAD /{key}[?timeout=D][&wait=D]
//                                 (with If-None-Match and wait: a long-poll, see watch.h)
//                                 200 + the raw value bytes, ETag "<version>" and
//                                 Last-Modified, or 404; 304/412 for conditional requests
//                                 (conditional.h);
//                                 504 when no member answered within the timeout;
//                                 "X-Cluster-KV-Current: false" on an answer that may not
//                                 be the newest (see key_response)
//   POST|PUT /{key}               stores the body as is, with its Content-Type and
//                                 Content-Encoding (returned on GET/HEAD; none given:
//                                 application/octet-stream); 200 (empty body) + ETag
//   DELETE /{key}                 200, or 404 when no member holds the key (a 404 that is
//                                 not current still writes the delete)
//   GET /_cluster/members[?status=alive,suspect][&tag=KEY=VALUE...]
//                                 members as JSON: name, address, state, incarnation, tags
//   GET /_cluster/health          200 {"status":"ok",...} once the node serves requests
//   GET /_cluster/metrics         Prometheus text format
//   GET /_cluster/keys            listing and export (listing.h)
//   GET /_cluster/watch           an event stream of a prefix's changes (watch.h)
//   POST /_cluster/force-leave?node=NAME
//                                 marks a failed member left at once (serf's force-leave):
//                                 200 {"node","state":"left"}; 404 no such member; 409 the
//                                 member is alive or suspect, or is this node
//
// The key is the percent-decoded path without its leading '/'. Keys starting with
// "_cluster/" (however encoded) are reserved for the endpoints above and refused with 400,
// as are empty keys, keys over the configured limit and bad percent-encoding. A body over
// the value limit is 413; other methods are 405. With access control, a request without
// the right token is refused first: 401 or 403 (runtime/security/access.h). Every response carries
// "X-Content-Type-Options: nosniff" (http_codec.h). Handlers never throw; `done` is called
// exactly once, from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/kv/client.h"
#include "kernel/kv/config.h"

namespace ckv {

class AccessControl;
class NodeDriver;
class Metrics;
class RocksStore;

enum class HttpMethod : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOther };
inline constexpr size_t kHttpMethodCount = 6;
static_assert(static_cast<size_t>(HttpMethod::kOther) + 1 == kHttpMethodCount);
const char* to_string(HttpMethod method);

// The precondition fields of a request (RFC 9110 section 13.1), as sent; empty: absent.
// See conditional.h.
struct HttpConditions {
  std::string if_match;
  std::string if_none_match;
  std::string if_modified_since;
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target;  // path and query, as sent
  std::string body;
  HttpConditions conditions;
  // Content-Type and Content-Encoding as sent (empty: absent): kept with a written value.
  ContentType content;
  std::string last_event_id;  // Last-Event-ID: where a watch stream resumes
  std::string authorization;  // Authorization, as sent (a bearer token: see access.h)
};

// A response body made piece by piece, for answers too large to hold whole (an export)
// or without an end known in advance. The server asks for the next piece only once the
// previous one is written, so a client that reads slowly slows the producer and nothing
// piles up; it sends the pieces chunked (to an HTTP/1.0 client: as they come, then it
// closes the connection).
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Called with the next piece (may be empty) and whether it is the last; once per next(),
  // from any thread.
  using Deliver = std::function<void(std::string piece, bool last)>;
  virtual void next(Deliver deliver) = 0;
  // Whether the connection closes once the last piece is written (a watch stream ends only
  // when the node drops a slow reader or stops), rather than serving its next request.
  virtual bool closes_connection() const { return false; }
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  // Set: the body comes from this stream after the head, and `body` is not sent.
  std::shared_ptr<BodyStream> stream;
  // A string literal (a pointer, so a std::string cannot be assigned and dangle); null:
  // no Content-Type header.
  const char* content_type = "text/plain; charset=utf-8";
  std::string etag;  // the ETag header's value, quotes included; empty: none
  std::vector<std::pair<std::string, std::string>> headers;
};

// The HTTP server's connections, counted by HttpServer and rendered by Metrics. Shared:
// connections can outlive the server object while the process stops.
struct HttpConnectionStats {
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> refused{0};    // over the connection limit: 503, then closed
  std::atomic<uint64_t> timed_out{0};  // a request or response not done within the limit
};

// What a request is about, for routing and metrics.
enum class Route : uint8_t {
  kKey,
  kMembers,
  kHealth,
  kMetrics,
  kKeys,
  kWatch,
  kForceLeave,
  kUnknown
};
inline constexpr size_t kRouteCount = 8;
static_assert(static_cast<size_t>(Route::kUnknown) + 1 == kRouteCount);
const char* to_string(Route route);

inline constexpr std::string_view kReservedPrefix = "_cluster/";

// Decodes %XX escapes; '+' stays '+'. An incomplete or non-hex escape is an error.
Result<std::string> percent_decode(std::string_view text);

// The route of a request target, and for kKey the decoded key (errors: 400).
struct RoutedTarget {
  Route route = Route::kUnknown;
  std::string key;
  std::string query;  // after '?', undecoded
};
Result<RoutedTarget> route_target(std::string_view target, size_t max_key_bytes);

// The value of `name` in a query string ("a=1&timeout=2s"), percent-decoded; empty when
// absent. A bad escape is an error.
Result<std::string> query_param(std::string_view query, std::string_view name);
// Every `name` parameter's value as sent (undecoded), in order ("tag=a=1&tag=b=2").
std::vector<std::string> query_params(std::string_view query, std::string_view name);
// Whether the query string names `name` at all ("?values", "?values=", "?values=1").
bool has_param(std::string_view query, std::string_view name);
// A duration parameter (`?timeout=2s`, `?ttl=1h`): none when absent; an error naming the
// parameter when it does not parse or is over `max`.
Result<std::optional<Duration>> duration_param(std::string_view query, std::string_view name,
                                               Duration max);

// A version's ETag, quotes included: "<wall us>.<logical>@<node hex>".
std::string etag_of(const Version& version);
// A version's Last-Modified, in whole seconds since the epoch: its wall time (the writer's
// hybrid clock when it took the write).
inline int64_t last_modified_seconds(const Version& version) {
  return static_cast<int64_t>(version.wall_us / 1'000'000);
}

// The kernel's reply to a key request, as HTTP. A reply that is not current (some member
// never answered, or a newer version exists that no member could give) carries
// "X-Cluster-KV-Current: false", on a 200 and on a 404 alike. `timeout`: the request's
// own; `stopping`: the node is shutting down, so an error is 503 (try another node).
HttpResponse key_response(HttpMethod method, const Reply& reply, std::optional<Duration> timeout,
                          bool stopping);

class HttpApi {
 public:
  HttpApi(NodeDriver& driver, Metrics& metrics, RocksStore& store, const KvConfig& limits)
      : driver_(driver), metrics_(metrics), store_(store), limits_(limits) {}

  // With access control (--http-token-file), every request must carry a token with the
  // right for it (access.h); without, every request is served. Set before serving.
  void require_tokens(const AccessControl* access) { access_ = access; }

  void handle(HttpRequest request, std::function<void(HttpResponse)> done);
  size_t max_body_bytes() const { return limits_.max_value_bytes; }

 private:
  void handle_key(HttpRequest& request, RoutedTarget& target,
                  std::function<void(HttpResponse)>& done);
  // PUT, POST or DELETE with If-Match or If-None-Match: decided by the key's owner (412
  // when the condition does not hold). A conditional DELETE of an absent key is a 412 or
  // a 200, never the unconditional delete's 404.
  // GET /_cluster/keys (runtime/http/listing.h).
  void handle_listing(const RoutedTarget& target, std::function<void(HttpResponse)>& done);
  void handle_conditional_write(HttpRequest& request, RoutedTarget& target,
                                std::function<void(HttpResponse)>& done);
  // POST /_cluster/force-leave?node=NAME.
  void handle_force_leave(const RoutedTarget& target, std::function<void(HttpResponse)>& done);
  // GET /_cluster/watch (runtime/http/watch.h).
  void handle_watch(const HttpRequest& request, const RoutedTarget& target,
                    std::function<void(HttpResponse)>& done);
  // GET /{key}?wait= with If-None-Match: answers once the key's ETag is another, or 304
  // when the wait ends (see watch.h).
  struct LongPoll;
  void long_poll(const std::shared_ptr<LongPoll>& poll);

  NodeDriver& driver_;
  Metrics& metrics_;
  RocksStore& store_;
  KvConfig limits_;
  const AccessControl* access_ = nullptr;
};

}  // namespace ckv
