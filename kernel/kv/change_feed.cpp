#include "kernel/kv/change_feed.h"

#include "kernel/core/enum_names.h"

namespace ckv {

constexpr auto kChangeKindNames = name_table({"put", "delete", "change", "reset"});
static_assert(kChangeKindNames.size() == kChangeKindCount, "one name per value");

const char* to_string(ChangeEvent::Kind kind) {
  return name_of(kChangeKindNames, kind);
}

void ChangeFeed::watch(std::string_view prefix) {
  auto it = prefixes_.find(prefix);
  if (it == prefixes_.end()) it = prefixes_.emplace(std::string(prefix), 0).first;
  it->second++;
}

void ChangeFeed::unwatch(std::string_view prefix) {
  auto it = prefixes_.find(prefix);
  if (it == prefixes_.end()) return;
  if (--it->second == 0) prefixes_.erase(it);
  if (prefixes_.empty()) given_.clear();  // nobody to keep them for
}

bool ChangeFeed::watched(std::string_view key) const {
  for (const auto& [prefix, watchers] : prefixes_) {
    if (key.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

void ChangeFeed::on_change(std::string_view key, const Version& version, ChangeEvent::Kind kind,
                           std::vector<ChangeEvent>& out) {
  if (prefixes_.empty() || !watched(key)) return;
  auto it = given_.find(std::string(key));
  if (it != given_.end()) {
    if (version <= it->second) return;  // given already, or older than what was
    it->second = version;
  } else {
    if (given_.size() >= max_keys_) {
      // Past the bound, the order of a forgotten key could not be kept: start over.
      reset(out);
    }
    given_.emplace(std::string(key), version);
  }
  out.push_back(ChangeEvent{kind, std::string(key), version});
}

void ChangeFeed::reset(std::vector<ChangeEvent>& out) {
  given_.clear();
  if (!prefixes_.empty()) out.push_back(ChangeEvent{});
}

}  // namespace ckv
