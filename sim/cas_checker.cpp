#include "sim/cas_checker.h"

#include <algorithm>

#include "sim/kv_workload.h"

namespace ckv::sim {

namespace {

// Whether success `s` was decided against the state `before` (null: no write) names.
bool precondition_of(const CasSuccess& s, const WriteRecord* before) {
  const bool value = before != nullptr && !before->tombstone;
  return s.condition.holds(value, value ? before->version : Version{});
}

std::string describe(const WriteCondition& c) {
  static const char* kinds[] = {"none", "If-None-Match: *", "If-Match: *",
                                "If-Match:", "If-None-Match:"};
  std::string out = kinds[static_cast<size_t>(c.kind)];
  for (const Version& v : c.versions)
    out += " " + to_string(v);
  return out;
}

bool same_precondition(const CasSuccess& a, const CasSuccess& b) {
  return a.condition == b.condition;
}

}  // namespace

void CasChecker::finish(const std::map<Version, WriteRecord>& writes) {
  std::map<Version, const CasSuccess*> by_version;
  for (const CasSuccess& s : successes_)
    by_version[s.version] = &s;
  for (const CasSuccess& s : successes_) {
    // The state it replaced: the highest write of the key below it. One that a crash or a
    // long absence lost before it began may or may not have been seen (a copy elsewhere
    // may have outlived its writer's loss): it is the state replaced if the condition
    // names it, else it is looked through.
    const WriteRecord* before = nullptr;
    bool explained = false;
    for (auto it = writes.lower_bound(s.version); it != writes.begin();) {
      --it;
      const WriteRecord& w = it->second;
      if (w.key != s.key) continue;
      if (w.lost_at <= s.started) {
        if (precondition_of(s, &w)) {
          explained = true;
          break;
        }
        continue;
      }
      before = &w;
      break;
    }
    if (explained || precondition_of(s, before)) continue;
    auto other = before != nullptr ? by_version.find(before->version) : by_version.end();
    const bool twin = other != by_version.end() && same_precondition(s, *other->second);
    (twin ? counts_.double_successes : counts_.stale_preconditions)++;
    if (counts_.first_violation.empty()) {
      counts_.first_violation = std::string(twin ? "double success" : "stale precondition") + ": " +
                                key_name(s.key) + " written at " + to_string(s.version) + " via n" +
                                std::to_string(s.node) + " replaced " +
                                (before ? to_string(before->version) : std::string("nothing")) +
                                (before && before->tombstone ? " (a delete)" : "") +
                                ", its condition " + describe(s.condition);
    }
  }
}

}  // namespace ckv::sim
