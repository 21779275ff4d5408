#include "sim/gap_checker.h"

#include <algorithm>
#include <iterator>

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
  // Held dead, it lived on unseen: reported dead at a newer incarnation, or leaving
  // (only a live member announces its leave).
  const bool unseen_life =
      !active(c.from_state) && !active(c.to_state) &&
      (c.to_incarnation > c.from_incarnation ||
       (c.from_state == MemberState::kDead && c.to_state == MemberState::kLeft));
  return !c.reaped && (active(c.from_state) != active(c.to_state) || unseen_life);
}

GapChecker::GapChecker(uint32_t nodes) : notes_(nodes) {}

void GapChecker::forget_witness(std::optional<uint32_t> observer, uint32_t witness) {
  for (uint32_t o = 0; o < notes_.size(); ++o) {
    if (observer && o != *observer) continue;
    for (auto it = notes_[o].begin(); it != notes_[o].end();) {
      std::erase_if(it->second, [&](const Note& n) { return n.witness == witness; });
      it = it->second.empty() ? notes_[o].erase(it) : std::next(it);
    }
  }
}

void GapChecker::on_view_change(uint32_t observer, uint32_t subject) {
  if (!notes_[observer].empty()) forget_witness(observer, subject);
}

void GapChecker::on_gap(uint32_t observer, uint32_t key, const Version& held, uint32_t witness,
                        const Version& newer) {
  std::vector<Note>& notes = notes_[observer][key];
  std::erase_if(notes, [&](const Note& n) { return n.witness == witness; });
  if (notes.size() >= kNotesPerKey) notes.erase(notes.begin());
  notes.push_back(Note{held, newer, witness});
}

void GapChecker::on_crash(uint32_t node) {
  notes_[node].clear();
  forget_witness(std::nullopt, node);
}

std::optional<std::string> GapChecker::check_local_hit(uint32_t observer, uint32_t key,
                                                       const Version& served) const {
  auto it = notes_[observer].find(key);
  if (it == notes_[observer].end()) return std::nullopt;
  for (const Note& n : it->second) {
    if (served <= n.held && served < n.newer) {
      return "n" + std::to_string(observer) + " answered " + to_string(served) +
             " from its copy as current, but when a member went or came back in its view n" +
             std::to_string(n.witness) + " (still active in it, and not restarted) held " +
             to_string(n.newer) + ": the copy was never revalidated";
    }
  }
  return std::nullopt;
}

}  // namespace ckv::sim
