#include "runtime/http/http_api.h"

#include <chrono>
#include <memory>
#include <utility>

#include "kernel/core/enum_names.h"
#include "runtime/http/conditional.h"
#include "runtime/http/listing.h"
#include "runtime/http/listing_export.h"
#include "runtime/http/members_json.h"
#include "runtime/http/watch.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/node_driver.h"
#include "runtime/security/access.h"
#include "runtime/store/rocks_store.h"
#include "runtime/text_parse.h"

namespace ckv {
namespace {

using Done = std::function<void(HttpResponse)>;

HttpResponse text(unsigned status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body += '\n';
  return r;
}

HttpResponse json(std::string body) {
  HttpResponse r;
  r.body = std::move(body);
  r.content_type = "application/json";
  return r;
}

}  // namespace

std::string etag_of(const Version& v) {
  std::string text;
  text.reserve(50);  // every version fits: one allocation per answer
  text += '"';
  append_version(text, v);
  text += '"';
  return text;
}

namespace {

// Cache-Control: max-age (the whole seconds left) and Expires, so that an HTTP cache in
// front of the node keeps a value with a TTL no longer than the node does.
void add_expiry_headers(HttpResponse& r, uint64_t expires_us) {
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t left_us = static_cast<int64_t>(expires_us) - now_us;
  r.headers.emplace_back("Cache-Control",
                         "max-age=" + std::to_string(std::max<int64_t>(0, left_us / 1'000'000)));
  r.headers.emplace_back("Expires", http_date(static_cast<int64_t>(expires_us / 1'000'000)));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

HttpResponse key_response(HttpMethod method, const Reply& reply, std::optional<Duration> timeout,
                          bool stopping) {
  switch (reply.status) {
    case ReplyStatus::kOk: {
      HttpResponse r;
      r.etag = etag_of(reply.version);
      if (method == HttpMethod::kGet || method == HttpMethod::kHead) {
        r.body = reply.value;
        if (reply.content.media.empty()) {
          r.content_type = "application/octet-stream";
        } else {
          r.content_type = nullptr;
          r.headers.emplace_back("Content-Type", reply.content.media);
        }
        if (!reply.content.encoding.empty())
          r.headers.emplace_back("Content-Encoding", reply.content.encoding);
        r.headers.emplace_back("Last-Modified", http_date(last_modified_seconds(reply.version)));
        if (reply.expires_us != 0) add_expiry_headers(r, reply.expires_us);
        // Some member never answered: this is the newest value the node could find.
        if (!reply.current) r.headers.emplace_back("X-Cluster-KV-Current", "false");
      } else {
        r.content_type = nullptr;
      }
      return r;
    }
    case ReplyStatus::kNotFound: {
      HttpResponse r;
      r.status = 404;
      r.content_type = nullptr;
      // A newer version exists that no member could give (its writer is gone or not yet
      // known), or some member never answered: the key may well exist.
      if (!reply.current) r.headers.emplace_back("X-Cluster-KV-Current", "false");
      // The delete's version, when the node knows it (`cluster-kv check` orders by it).
      if (!reply.version.is_zero())
        r.headers.emplace_back("X-Cluster-KV-Version", etag_of(reply.version));
      return r;
    }
    case ReplyStatus::kTimeout:
      return text(504, timeout ? "no member answered within the timeout"
                               : "no member answered within the query timeout");
    case ReplyStatus::kPreconditionFailed: {
      HttpResponse r = text(412, reply.version.is_zero()
                                     ? "precondition failed: the key has no value\n"
                                     : "precondition failed: the current version is the ETag's\n");
      if (!reply.version.is_zero()) r.etag = etag_of(reply.version);
      return r;
    }
    case ReplyStatus::kError:
      break;
  }
  if (stopping || reply.code == ErrorCode::kUnavailable) {
    HttpResponse r = text(503, "error: " + reply.error);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  switch (reply.code) {
    case ErrorCode::kInvalidArgument:
      return text(400, "error: " + reply.error);
    case ErrorCode::kOversized:
      return text(413, "error: " + reply.error);
    case ErrorCode::kNoSpace:
      return text(507, "error: no space to store this write: " + reply.error);
    default:
      return text(500, "error: " + reply.error);
  }
}

constexpr auto kHttpMethodNames = name_table({"GET", "HEAD", "POST", "PUT", "DELETE", "other"});
static_assert(kHttpMethodNames.size() == kHttpMethodCount, "one name per value");

const char* to_string(HttpMethod method) {
  return name_of(kHttpMethodNames, method);
}

constexpr auto kRouteNames =
    name_table({"key", "members", "health", "metrics", "keys", "watch", "force_leave", "unknown"});
static_assert(kRouteNames.size() == kRouteCount, "one name per value");

const char* to_string(Route route) {
  return name_of(kRouteNames, route);
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Error{ErrorCode::kMalformed, "bad percent-encoding at byte " + std::to_string(i)};
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<RoutedTarget> route_target(std::string_view target, size_t max_key_bytes) {
  RoutedTarget out;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  if (path.empty() || path[0] != '/') {
    return Error{ErrorCode::kMalformed, "the target must be a path starting with '/'"};
  }
  path.remove_prefix(1);
  if (path.starts_with(kReservedPrefix)) {
    std::string_view name = path.substr(kReservedPrefix.size());
    out.route = name == "members"       ? Route::kMembers
                : name == "health"      ? Route::kHealth
                : name == "metrics"     ? Route::kMetrics
                : name == "keys"        ? Route::kKeys
                : name == "watch"       ? Route::kWatch
                : name == "force-leave" ? Route::kForceLeave
                                        : Route::kUnknown;
    return out;
  }
  auto key = percent_decode(path);
  if (!key) return key.error();
  if (key->empty()) return Error{ErrorCode::kInvalidArgument, "empty key: use /{key}"};
  if (key->size() > max_key_bytes) {
    return Error{ErrorCode::kOversized, "key of " + std::to_string(key->size()) +
                                            " bytes is over the limit of " +
                                            std::to_string(max_key_bytes)};
  }
  if (std::string_view(*key).starts_with(kReservedPrefix)) {
    return Error{ErrorCode::kInvalidArgument,
                 "keys starting with '" + std::string(kReservedPrefix) + "' are reserved"};
  }
  out.route = Route::kKey;
  out.key = std::move(*key);
  return out;
}

namespace {

// The first `name` parameter's value as sent (empty without '='); none when absent.
std::optional<std::string_view> raw_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> query_params(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      values.emplace_back(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return values;
}

Result<std::string> query_param(std::string_view query, std::string_view name) {
  return percent_decode(raw_param(query, name).value_or(std::string_view()));
}

bool has_param(std::string_view query, std::string_view name) {
  return raw_param(query, name).has_value();
}

Result<std::optional<Duration>> duration_param(std::string_view query, std::string_view name,
                                               Duration max) {
  auto text = query_param(query, name);
  if (!text)
    return Error{ErrorCode::kInvalidArgument, std::string(name) + ": " + text.error().detail};
  if (text->empty()) return std::optional<Duration>();
  auto d = parse_duration(*text, max);
  if (!d) return Error{ErrorCode::kInvalidArgument, std::string(name) + ": " + d.error().detail};
  return std::optional<Duration>(*d);
}

void HttpApi::handle(HttpRequest request, Done done) {
  auto started = std::chrono::steady_clock::now();
  auto routed = route_target(request.target, limits_.max_key_bytes);
  Route route = routed ? routed->route : Route::kUnknown;
  HttpMethod method = request.method;
  // Every answer is counted once, with its latency.
  Done finish = [this, route, method, started, done = std::move(done)](HttpResponse r) {
    auto took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
    metrics_.record_request(route, method, r.status, took);
    done(std::move(r));
  };
  if (access_ != nullptr) {
    std::optional<Need> need;
    if (routed) {
      need = need_of(routed->route, method, routed->key, routed->query, access_->open_status());
    }
    if (!routed || need) {
      if (auto refused = access_->check(request, routed ? &*need : nullptr)) {
        finish(std::move(*refused));
        return;
      }
    }
  }
  if (!routed) {
    finish(text(400, routed.error().detail));
    return;
  }
  switch (routed->route) {
    case Route::kKey:
      handle_key(request, *routed, finish);
      return;
    case Route::kUnknown:
      finish(text(404,
                  "no such cluster endpoint; see /_cluster/members, /_cluster/health, "
                  "/_cluster/metrics, /_cluster/keys, /_cluster/watch"));
      return;
    default:
      break;
  }
  if (routed->route == Route::kForceLeave) {
    if (method != HttpMethod::kPost) {
      HttpResponse r = text(405, "force-leave takes POST");
      r.headers.emplace_back("Allow", "POST");
      finish(std::move(r));
      return;
    }
    handle_force_leave(*routed, finish);
    return;
  }
  if (method != HttpMethod::kGet && method != HttpMethod::kHead) {
    HttpResponse r = text(405, "cluster endpoints answer GET only");
    r.headers.emplace_back("Allow", "GET, HEAD");
    finish(std::move(r));
    return;
  }
  if (routed->route == Route::kKeys) {
    handle_listing(*routed, finish);
    return;
  }
  if (routed->route == Route::kWatch) {
    handle_watch(request, *routed, finish);
    return;
  }
  Route which = routed->route;
  MemberFilter filter;
  if (which == Route::kMembers) {
    auto parsed = member_filter(routed->query);
    if (!parsed) {
      finish(text(400, parsed.error().detail));
      return;
    }
    filter = std::move(*parsed);
  }
  driver_.view(
      [this, which, filter = std::move(filter), finish = std::move(finish)](NodeView view) {
        if (which == Route::kMembers) {
          finish(json(members_json(view, filter)));
        } else if (which == Route::kHealth) {
          // 503 while the node cannot serve as a member: still joining, or leaving.
          HttpResponse r = json(health_json(view, driver_.stopping()));
          if (driver_.stopping() || !view.joined) r.status = 503;
          finish(std::move(r));
        } else {
          HttpResponse r;
          r.body = metrics_.render(view, driver_.transport_stats(), store_.approximate_keys(),
                                   store_.record_cache().stats());
          r.content_type = "text/plain; version=0.0.4";
          finish(std::move(r));
        }
      });
}

struct HttpApi::LongPoll {
  std::string key;
  HttpMethod method = HttpMethod::kGet;
  HttpConditions conditions;
  std::optional<Duration> timeout;
  std::chrono::steady_clock::time_point deadline;
  Done done;
  // On the driver's strand, where every step below runs.
  bool answered = false;
  bool expired = false;                   // the wait ended with no change
  uint64_t wait_id = 0;                   // the driver's, for cancel_wait
  std::optional<HttpResponse> unchanged;  // the 304 of the last read that found no change
};

void HttpApi::handle_key(HttpRequest& request, RoutedTarget& target, Done& done) {
  HttpMethod method = request.method;
  const bool write =
      method == HttpMethod::kPost || method == HttpMethod::kPut || method == HttpMethod::kDelete;
  if (write &&
      (!request.conditions.if_match.empty() || !request.conditions.if_none_match.empty())) {
    handle_conditional_write(request, target, done);
    return;
  }
  switch (method) {
    case HttpMethod::kGet:
    case HttpMethod::kHead: {
      auto timeout_param = duration_param(target.query, "timeout", std::chrono::hours(1));
      if (!timeout_param) {
        done(text(400, timeout_param.error().detail));
        return;
      }
      const std::optional<Duration> timeout = *timeout_param;
      auto wait = duration_param(target.query, "wait", kMaxWait);
      if (!wait) {
        done(text(400, wait.error().detail + " (at most 10 minutes)"));
        return;
      }
      if (*wait && **wait > Duration(0) && !request.conditions.if_none_match.empty()) {
        auto poll = std::make_shared<LongPoll>();
        poll->key = std::move(target.key);
        poll->method = method;
        poll->conditions = std::move(request.conditions);
        poll->timeout = timeout;
        poll->deadline = std::chrono::steady_clock::now() + **wait;
        poll->done = std::move(done);
        long_poll(poll);
        return;
      }
      Reply local;
      if (driver_.try_local_get(target.key, local)) {
        std::optional<HttpResponse> conditional = conditional_read(request.conditions, local);
        done(conditional ? std::move(*conditional) : key_response(method, local, timeout, false));
        return;
      }
      driver_.get(std::move(target.key), timeout,
                  [this, method, timeout, conditions = std::move(request.conditions),
                   done = std::move(done)](Reply reply) {
                    std::optional<HttpResponse> conditional = conditional_read(conditions, reply);
                    done(conditional ? std::move(*conditional)
                                     : key_response(method, reply, timeout, driver_.stopping()));
                  });
      return;
    }
    case HttpMethod::kPost:
    case HttpMethod::kPut:
      if (request.body.size() > limits_.max_value_bytes) {
        done(text(413, "value of " + std::to_string(request.body.size()) +
                           " bytes is over the limit of " +
                           std::to_string(limits_.max_value_bytes)));
        return;
      }
      {
        auto ttl = duration_param(target.query, "ttl", kMaxTtl);
        if (!ttl) {
          done(text(400, ttl.error().detail));
          return;
        }
        driver_.put(std::move(target.key), std::move(request.body), *ttl,
                    std::move(request.content),
                    [this, method, done = std::move(done)](Reply reply) {
                      done(key_response(method, reply, std::nullopt, driver_.stopping()));
                    });
        return;
      }
    case HttpMethod::kDelete: {
      // 404 when no member holds the key: a cluster read first, then the tombstone. A
      // read that failed (a store error, a shutdown) deletes nothing; a 404 that is not
      // current (the key may exist where the read could not see) still deletes.
      std::string key = target.key;
      driver_.get(
          std::move(target.key), std::nullopt,
          [this, key = std::move(key), done = std::move(done)](Reply found) mutable {
            const bool absent = found.status == ReplyStatus::kNotFound && found.current;
            if (absent || found.status == ReplyStatus::kError) {
              done(key_response(HttpMethod::kDelete, found, std::nullopt, driver_.stopping()));
              return;
            }
            driver_.erase(std::move(key), [this, done = std::move(done)](Reply reply) {
              done(key_response(HttpMethod::kDelete, reply, std::nullopt, driver_.stopping()));
            });
          });
      return;
    }
    case HttpMethod::kOther:
      break;
  }
  HttpResponse r = text(405, "method not allowed; use GET, HEAD, POST, PUT or DELETE");
  r.headers.emplace_back("Allow", "GET, HEAD, POST, PUT, DELETE");
  done(std::move(r));
}

void HttpApi::handle_conditional_write(HttpRequest& request, RoutedTarget& target, Done& done) {
  Result<WriteCondition> condition = write_condition(request.conditions);
  if (!condition.ok()) {
    done(text(400, condition.error().detail));
    return;
  }
  const HttpMethod method = request.method;
  const bool erase = method == HttpMethod::kDelete;
  std::optional<Duration> ttl;
  if (!erase) {
    if (request.body.size() > limits_.max_value_bytes) {
      done(text(413, "value of " + std::to_string(request.body.size()) +
                         " bytes is over the limit of " + std::to_string(limits_.max_value_bytes)));
      return;
    }
    auto ttl_param = duration_param(target.query, "ttl", kMaxTtl);
    if (!ttl_param) {
      done(text(400, ttl_param.error().detail));
      return;
    }
    ttl = *ttl_param;
  }
  driver_.write_if(std::move(target.key), erase, erase ? std::string() : std::move(request.body),
                   ttl, erase ? ContentType{} : std::move(request.content),
                   std::move(condition.value()),
                   [this, method, done = std::move(done)](Reply reply) {
                     done(key_response(method, reply, std::nullopt, driver_.stopping()));
                   });
}

void HttpApi::long_poll(const std::shared_ptr<LongPoll>& poll) {
  // Wait first, then read: a change between the two still wakes the wait. A read that
  // finds another ETag answers (and ends the wait); one that finds the same leaves the
  // wait to answer. Every step after this one runs on the driver's strand.
  auto answer = [](LongPoll& p, HttpResponse r) {
    p.answered = true;
    std::exchange(p.done, nullptr)(std::move(r));  // (let go of the connection now)
  };
  const auto left =
      std::chrono::duration_cast<Duration>(poll->deadline - std::chrono::steady_clock::now());
  poll->wait_id = driver_.wait_for_change(
      poll->key, std::max(left, Duration(0)), [this, poll, answer](bool changed) {
        if (poll->answered) return;
        if (changed) {
          if (driver_.stopping()) return answer(*poll, text(503, "error: node is stopping"));
          return long_poll(poll);  // read again
        }
        // The wait is over: the last read's 304, or, while that read is out, its answer.
        poll->expired = true;
        if (poll->unchanged) answer(*poll, std::move(*poll->unchanged));
      });
  driver_.get(poll->key, poll->timeout, [this, poll, answer](Reply reply) {
    if (poll->answered) return;
    std::optional<HttpResponse> conditional = conditional_read(poll->conditions, reply);
    if (conditional && conditional->status == 304) {
      if (poll->expired) return answer(*poll, std::move(*conditional));
      poll->unchanged = std::move(conditional);
      return;
    }
    driver_.cancel_wait(poll->wait_id);
    answer(*poll, conditional
                      ? std::move(*conditional)
                      : key_response(poll->method, reply, poll->timeout, driver_.stopping()));
  });
}

void HttpApi::handle_watch(const HttpRequest& request, const RoutedTarget& target, Done& done) {
  auto prefix = query_param(target.query, "prefix");
  if (!prefix || prefix->size() > limits_.max_key_bytes) {
    done(text(400,
              "prefix: " + (prefix ? "at most " + std::to_string(limits_.max_key_bytes) + " bytes"
                                   : prefix.error().detail)));
    return;
  }
  start_watch_stream(driver_, std::move(*prefix), request.last_event_id,
                     [done = std::move(done)](std::shared_ptr<BodyStream> stream) {
                       HttpResponse r;
                       r.content_type = "text/event-stream";
                       r.headers.emplace_back("Cache-Control", "no-cache");
                       // proxies: pass events on at once
                       r.headers.emplace_back("X-Accel-Buffering", "no");
                       r.stream = std::move(stream);
                       done(std::move(r));
                     });
}

void HttpApi::handle_force_leave(const RoutedTarget& target, Done& done) {
  auto node = query_param(target.query, "node");
  if (!node || node->empty()) {
    done(text(400, "force-leave needs ?node=NAME"));
    return;
  }
  driver_.force_leave(*node, [node = *node, done = std::move(done)](Status s) {
    if (s.ok()) {
      log_info("force-leave: " + node + " is marked left");
      done(json(forced_out_json(node)));
      return;
    }
    const ErrorCode code = s.error().code;
    done(text(code == ErrorCode::kNotFound      ? 404
              : code == ErrorCode::kUnavailable ? 503
                                                : 409,
              s.error().detail + "\n"));
  });
}

void HttpApi::handle_listing(const RoutedTarget& target, Done& done) {
  Result<ListParams> params = list_params(target.query, limits_.max_key_bytes);
  if (!params.ok()) {
    done(text(400, params.error().detail));
    return;
  }
  ListParams& p = params.value();
  if (p.values) {
    HttpResponse r;
    r.content_type = "application/x-ndjson";
    r.stream = listing_export(driver_, std::move(p));
    done(std::move(r));
    return;
  }
  driver_.list(std::move(p.prefix), std::move(p.after), p.limit, p.timeout, /*values=*/false,
               [this, done = std::move(done)](Reply reply) {
                 if (reply.status != ReplyStatus::kOk) {
                   done(key_response(HttpMethod::kGet, reply, std::nullopt, driver_.stopping()));
                   return;
                 }
                 HttpResponse r = json(listing_json(reply));
                 if (!reply.current) r.headers.emplace_back("X-Cluster-KV-Current", "false");
                 done(std::move(r));
               });
}

}  // namespace ckv
