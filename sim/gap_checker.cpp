#include "sim/gap_checker.h"

#include <algorithm>

namespace ckv::sim {

namespace {
// Per observer and key, only the last notes are kept: a witness noted again replaces its
// older note, and this many witnesses are enough to judge.
constexpr size_t kNotesPerKey = 8;
}  // namespace

bool opens_gap(const MemberChange& c) {
  const auto active = [](MemberState s) {
    return s == MemberState::kAlive || s == MemberState::kSuspect;
  };
  const bool unseen_life =
      !active(c.from_state) && !active(c.to_state) && c.to_incarnation > c.from_incarnation;
  return !c.reaped && (active(c.from_state) != active(c.to_state) || unseen_life);
}

GapChecker::GapChecker(uint32_t nodes)
    : nodes_(nodes),
      last_change_(static_cast<size_t>(nodes) * nodes, 0),
      last_crash_(nodes, 0),
      notes_(nodes) {}

void GapChecker::on_view_change(uint32_t observer, uint32_t subject) {
  last_change_[static_cast<size_t>(observer) * nodes_ + subject] = ++events_;
}

void GapChecker::on_gap(uint32_t observer, uint32_t key, const Version& held, uint32_t witness,
                        const Version& newer) {
  std::vector<Note>& notes = notes_[observer][key];
  std::erase_if(notes, [&](const Note& n) { return n.witness == witness; });
  if (notes.size() >= kNotesPerKey) notes.erase(notes.begin());
  notes.push_back(Note{held, newer, witness, events_});
}

void GapChecker::on_crash(uint32_t node) {
  last_crash_[node] = ++events_;
  notes_[node].clear();
}

bool GapChecker::still_witness(uint32_t observer, const Note& n) const {
  return last_crash_[n.witness] <= n.noted &&
         last_change_[static_cast<size_t>(observer) * nodes_ + n.witness] <= n.noted;
}

std::optional<std::string> GapChecker::check_local_hit(uint32_t observer, uint32_t key,
                                                       const Version& served) const {
  auto it = notes_[observer].find(key);
  if (it == notes_[observer].end()) return std::nullopt;
  for (const Note& n : it->second) {
    if (served <= n.held && served < n.newer && still_witness(observer, n)) {
      return "n" + std::to_string(observer) + " answered " + to_string(served) +
             " from its copy as current, but when a member went or came back in its view n" +
             std::to_string(n.witness) + " (still active in it, and not restarted) held " +
             to_string(n.newer) + ": the copy was never revalidated";
    }
  }
  return std::nullopt;
}

}  // namespace ckv::sim
