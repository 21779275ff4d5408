// GET /_cluster/keys: the parameters a listing takes and the JSON it answers.
//
//   ?prefix=P   keys that start with P (percent-decoded; default: every key)
//   &after=K    keys that sort after K, byte-wise (the `next` of the previous page;
//               &after_base64= for a `next_base64`)
//   &limit=N    at most N keys, 1..10000 (default 1000)
//   &timeout=D  how long to wait for silent members (as a GET's ?timeout=)
// Answer: {"keys":[{"key":"...","etag":"\"<version>\"","size":N}, ...],
//          "next":"<key>" | null, "current":true|false}
// A key that is not valid UTF-8 is given as "key_base64" instead of "key", and such a
// `next` as "next_base64" (with "next": null).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/kv/client.h"

namespace ckv {

struct ListParams {
  std::string prefix;
  std::string after;
  size_t limit = 1000;
  std::optional<Duration> timeout;
};

// The listing's parameters from a query string; an error naming the bad parameter.
Result<ListParams> list_params(std::string_view query, size_t max_key_bytes);

// The JSON body of a listing's answer.
std::string listing_json(const Reply& reply);

// Standard base64 with padding.
std::string base64(std::string_view bytes);

}  // namespace ckv
