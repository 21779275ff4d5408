// Watching over HTTP: long-polls of one key (GET /{key}?wait=30s with If-None-Match) and
// event streams of a prefix (GET /_cluster/watch?prefix=P, text/event-stream), served
// from the node's WatchHub (runtime/watch/watch_hub.h).
//
//   GET /_cluster/watch?prefix=P   events "put" and "delete" with
//                                   data: {"key":"...","etag":"\"<version>\""}
//                                   ("key_base64" for a key that is not UTF-8), "change"
//                                   (a new version of unknown kind, from an older node),
//                                   and "reset" (re-read: the node may have missed
//                                   changes); each with an id that Last-Event-ID resumes
//                                   after; ": keep-alive" comments every 15 s.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kernel/kv/change_feed.h"
#include "runtime/http/http_api.h"

namespace ckv {

class NodeDriver;

// One event in text/event-stream form: "id: ...\nevent: ...\ndata: {...}\n\n".
std::string sse_event(const ChangeEvent& e, std::string_view id);

// The body of a watch: the hub's events for `prefix`, resuming after `last_event_id`;
// handed to `started` (on the driver's strand) once subscribed, so the response it goes
// in misses nothing made after its client sees the head.
void start_watch_stream(NodeDriver& driver, std::string prefix, std::string last_event_id,
                        std::function<void(std::shared_ptr<BodyStream>)> started);

// The longest a long-poll may wait (?wait= over it: 400).
inline constexpr auto kMaxWait = std::chrono::minutes(10);

}  // namespace ckv
