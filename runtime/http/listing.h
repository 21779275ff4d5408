// GET /_cluster/keys: the parameters a listing takes and the JSON it answers.
//
//   ?prefix=P   keys that start with P (percent-decoded; default: every key)
//   &after=K    keys that sort after K, byte-wise (the `next` of the previous page;
//               &after_base64= for a `next_base64`)
//   &limit=N    at most N keys, 1..10000 (default 1000)
//   &timeout=D  how long to wait for silent members (as a GET's ?timeout=)
//   &values     export: the values too, as NDJSON (below)
// Answer: {"keys":[{"key":"...","etag":"\"<version>\"","size":N}, ...],
//          "next":"<key>" | null, "current":true|false}
// A key that is not valid UTF-8 is given as "key_base64" instead of "key", and such a
// `next` as "next_base64" (with "next": null).
//
// With `values`, the answer is application/x-ndjson, streamed page after page to the end
// of the range (or the first `limit` keys, if given): one line per key,
//   {"key":"...","etag":"...","size":N,"value":"<base64>"[,"content_type":"..."]
//    [,"content_encoding":"..."][,"expires_us":N]}
// then one last line {"next":...,"current":...} as above (current: every page was), or,
// when a page failed, {"error":"...","next":...} with where to resume.
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
  bool limited = false;  // `limit` was given
  std::optional<Duration> timeout;
  bool values = false;
};

// The listing's parameters from a query string; an error naming the bad parameter.
Result<ListParams> list_params(std::string_view query, size_t max_key_bytes);

// The JSON body of a listing's answer.
std::string listing_json(const Reply& reply);

// An export's lines for the keys of one page (a listing with values).
std::string export_lines(const Reply& page);
// An export's last line: where it stopped (`next` empty: the end) and whether every page
// was current, or `error` (not empty) and where to resume.
std::string export_end(std::string_view next, bool current, std::string_view error = {});

// `"key":"..."` (a JSON string), or `"key_base64":"..."` for a key that is not UTF-8.
void append_json_key(std::string& out, std::string_view key);

// Standard base64 with padding.
std::string base64(std::string_view bytes);

}  // namespace ckv
