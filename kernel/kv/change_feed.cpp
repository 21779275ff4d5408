#include "kernel/kv/change_feed.h"

#include "kernel/core/enum_names.h"

namespace ckv {

constexpr auto kChangeKindNames = name_table({"put", "delete", "change", "reset", "expire"});
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
  if (prefixes_.empty()) {  // nobody to keep them for
    given_.clear();
    expiries_.clear();
  }
}

bool ChangeFeed::watched(std::string_view key) const {
  for (const auto& [prefix, watchers] : prefixes_) {
    if (key.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

void ChangeFeed::on_change(std::string_view key, const Version& version, ChangeEvent::Kind kind,
                           std::vector<ChangeEvent>& out, uint64_t expires_us) {
  if (prefixes_.empty() || !watched(key)) return;
  auto it = given_.find(std::string(key));
  if (it != given_.end()) {
    if (version <= it->second.version) return;  // given already, or older than what was
    if (it->second.expires_us != 0) expiries_.erase({it->second.expires_us, it->first});
  } else {
    if (given_.size() >= max_keys_) {
      // Past the bound, the order of a forgotten key could not be kept: start over.
      reset(out);
    }
    it = given_.emplace(std::string(key), Given{}).first;
  }
  it->second.version = version;
  it->second.expires_us = kind == ChangeEvent::Kind::kPut ? expires_us : 0;
  if (it->second.expires_us != 0) expiries_.emplace(it->second.expires_us, it->first);
  out.push_back(ChangeEvent{kind, std::string(key), version});
}

void ChangeFeed::on_clock(uint64_t wall_us, std::vector<ChangeEvent>& out) {
  while (!expiries_.empty() && expiries_.begin()->first <= wall_us) {
    auto node = expiries_.extract(expiries_.begin());
    Given& g = given_.at(node.value().second);
    g.expires_us = 0;
    out.push_back(
        ChangeEvent{ChangeEvent::Kind::kExpire, std::move(node.value().second), g.version});
  }
}

void ChangeFeed::reset(std::vector<ChangeEvent>& out) {
  given_.clear();
  expiries_.clear();
  if (!prefixes_.empty()) out.push_back(ChangeEvent{});
}

}  // namespace ckv
