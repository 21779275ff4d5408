// ContentType: what a value is, in HTTP's words -- the media type its writer gave
// (Content-Type) and the coding applied to it (Content-Encoding) -- kept with the value
// and handed back with it wherever the value goes (the store, cluster reads, conditional
// writes, listings).
//
// The kernel never interprets either: it only promises that each is at most
// kMaxContentTypeBytes of printable ASCII without leading or trailing blanks, so it can
// go back into a response header as it came (valid_content_type says whether one is).
// Empty means "not given": served as application/octet-stream with no encoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ckv {

struct ContentType {
  std::string media;     // e.g. "application/json; charset=utf-8"; empty: not given
  std::string encoding;  // e.g. "gzip"; empty: none
  bool empty() const { return media.empty() && encoding.empty(); }
  size_t bytes() const { return media.size() + encoding.size(); }
  friend bool operator==(const ContentType&, const ContentType&) = default;
};

inline constexpr size_t kMaxContentTypeBytes = 256;

// Whether `text` may be a media type or an encoding: empty, or at most
// kMaxContentTypeBytes of visible ASCII and inner spaces or tabs.
bool valid_content_field(std::string_view text);
inline bool valid_content_type(const ContentType& c) {
  return valid_content_field(c.media) && valid_content_field(c.encoding);
}

}  // namespace ckv
