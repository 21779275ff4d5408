// Conditional requests (RFC 9110 section 13). Reads: what GET and HEAD of a key answer
// when the request carries If-Match, If-None-Match or If-Modified-Since. Writes: the
// condition a PUT, POST or DELETE carries, for the kernel to decide (kv/client.h).
//
// Evaluated in the RFC's order on the node's answer (a local hit or a cluster read, so a
// 304 costs what the read did): If-Match that no current ETag satisfies -> 412 (strong
// comparison; `*` needs a value); else If-None-Match that the ETag satisfies -> 304 (weak
// comparison; `*` matches any value); else, without If-None-Match, If-Modified-Since no
// earlier than the value's Last-Modified -> 304. A 304 carries the ETag, Last-Modified and
// the expiry headers a 200 would, and no body. An If-Modified-Since that is not an HTTP
// date is ignored, as the RFC says.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernel/kv/client.h"
#include "runtime/http/http_api.h"

namespace ckv {

// Whether the ETag `etag` (quotes included) is in `list` (a field value: "*", or ETags
// separated by commas, each possibly weak: W/"..."). `weak`: weak comparison (W/ ignored
// on both sides); otherwise strong (a weak ETag in the list matches nothing).
bool etag_listed(std::string_view list, std::string_view etag, bool weak);

// The response a conditional GET/HEAD gets instead of the usual one, or none: answer as
// usual. `reply` is the node's answer to the read.
std::optional<HttpResponse> conditional_read(const HttpConditions& conditions, const Reply& reply);

// The condition a write's If-Match or If-None-Match sets (kind kNone: neither): `*`, or a
// list of ETags (an ETag that is weak or not one of ours names no version: If-Match with
// only such tags fails, as the RFC's strong comparison says). Both headers at once, a
// malformed list or more than WriteCondition::kMaxVersions tags: an error for a 400.
// If-Modified-Since and If-Unmodified-Since are not conditions on writes here.
Result<WriteCondition> write_condition(const HttpConditions& conditions);

}  // namespace ckv
