#include "kernel/membership/tags.h"

#include <algorithm>
#include <string>

namespace ckv {
namespace {

bool key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Error bad(const std::string& why) {
  return Error{ErrorCode::kInvalidArgument, why};
}

}  // namespace

Status check_tags(const wire::Tags& tags) {
  if (tags.size() > kMaxTags) return bad("at most " + std::to_string(kMaxTags) + " tags");
  size_t bytes = 0;
  for (size_t i = 0; i < tags.size(); ++i) {
    const wire::Tag& t = tags[i];
    if (t.key.empty() || t.key.size() > kMaxTagKeyBytes ||
        !std::all_of(t.key.begin(), t.key.end(), key_char)) {
      return bad("a tag key is 1..64 bytes of A-Z a-z 0-9 . _ -");
    }
    if (t.value.size() > kMaxTagValueBytes ||
        !std::all_of(t.value.begin(), t.value.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f; })) {
      return bad("tag '" + t.key + "': a value is up to 256 bytes of printable ASCII");
    }
    if (i > 0 && !(tags[i - 1].key < t.key)) {
      return bad(tags[i - 1].key == t.key ? "tag '" + t.key + "' is given twice"
                                          : "tags must be sorted by key");
    }
    bytes += t.key.size() + t.value.size();
  }
  if (bytes > kMaxTagBytes) {
    return bad("tags hold at most " + std::to_string(kMaxTagBytes) + " bytes of keys and values");
  }
  return Status();
}

Result<wire::Tags> normalize_tags(wire::Tags tags) {
  std::stable_sort(tags.begin(), tags.end(),
                   [](const wire::Tag& a, const wire::Tag& b) { return a.key < b.key; });
  if (Status s = check_tags(tags); !s.ok()) return s.error();
  return tags;
}

bool has_tag(const wire::Tags& tags, std::string_view key, std::string_view value) {
  return std::any_of(tags.begin(), tags.end(),
                     [&](const wire::Tag& t) { return t.key == key && t.value == value; });
}

}  // namespace ckv
