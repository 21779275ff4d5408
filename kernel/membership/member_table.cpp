#include "kernel/membership/member_table.h"

#include <algorithm>
#include <bit>

#include "kernel/core/assert.h"
#include "kernel/core/hash.h"

namespace ckv {

size_t MemberTable::home_slot(std::string_view name) const {
  return static_cast<size_t>(hash_word(fnv1a(name, hash_key_), hash_key_)) & (slots_.size() - 1);
}

size_t MemberTable::probe_slot(std::string_view name) const {
  size_t i = home_slot(name);
  while (slots_[i] != 0 && members_[slots_[i] - 1].name.view() != name) {
    i = (i + 1) & (slots_.size() - 1);
  }
  return i;
}

Member* MemberTable::find(std::string_view name) {
  if (slots_.empty()) return nullptr;
  const uint32_t s = slots_[probe_slot(name)];
  return s == 0 ? nullptr : &members_[s - 1];
}

const Member* MemberTable::find(std::string_view name) const {
  return const_cast<MemberTable*>(this)->find(name);
}

Member& MemberTable::insert(Member member, Prng& rng) {
  CKV_ASSERT(find(member.name.view()) == nullptr, "insert only names not in the table");
  counts_[static_cast<size_t>(member.state)]++;
  members_.push_back(std::move(member));
  if (slots_.size() < 2 * members_.size()) {
    rebuild_index();
  } else {
    slots_[probe_slot(members_.back().name.view())] = static_cast<uint32_t>(members_.size());
  }
  // Swap the newcomer with a random member so new members do not all wait for the end of
  // the probe round.
  const size_t last = members_.size() - 1;
  const size_t pos = static_cast<size_t>(rng.below(members_.size()));
  if (pos != last) {
    const size_t newcomer_slot = probe_slot(members_[last].name.view());
    const size_t displaced_slot = probe_slot(members_[pos].name.view());
    std::swap(members_[pos], members_[last]);
    slots_[newcomer_slot] = static_cast<uint32_t>(pos + 1);
    slots_[displaced_slot] = static_cast<uint32_t>(last + 1);
  }
  return members_[pos];
}

void MemberTable::set_state(Member& member, MemberState state, MonoTime now) {
  if (member.state == state) return;
  CKV_ASSERT(find(member.name.view()) == &member && counts_[static_cast<size_t>(member.state)] > 0,
             "set_state gets the table's own member; counts never underflow");
  counts_[static_cast<size_t>(member.state)]--;
  counts_[static_cast<size_t>(state)]++;
  member.state = state;
  member.state_since = now;
}

std::vector<Member> MemberTable::remove_if(const std::function<bool(const Member&)>& pred) {
  std::vector<Member> removed;
  size_t kept = 0;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (pred(members_[i])) {
      counts_[static_cast<size_t>(members_[i].state)]--;
      removed.push_back(std::move(members_[i]));
    } else {
      if (kept != i) members_[kept] = std::move(members_[i]);
      ++kept;
    }
  }
  if (removed.empty()) return removed;
  members_.resize(kept);
  CKV_ASSERT(counts_[0] + counts_[1] + counts_[2] + counts_[3] == members_.size(),
             "per-state counts add up to the table size");
  rebuild_index();
  return removed;
}

void MemberTable::shuffle(Prng& rng) {
  rng.shuffle(members_);
  rebuild_index();
}

void MemberTable::rebuild_index() {
  const size_t want = std::bit_ceil(std::max<size_t>(8, 2 * members_.size()));
  if (slots_.size() != want) {
    slots_.assign(want, 0);
    slots_.shrink_to_fit();
  } else {
    std::fill(slots_.begin(), slots_.end(), 0);
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    slots_[probe_slot(members_[i].name.view())] = static_cast<uint32_t>(i + 1);
  }
}

size_t MemberTable::heap_bytes() const {
  size_t bytes = members_.capacity() * sizeof(Member) + slots_.capacity() * sizeof(uint32_t);
  for (const Member& m : members_) {
    if (m.name.size() > CompactString::kInlineCapacity) bytes += m.name.size();
  }
  return bytes;
}

}  // namespace ckv
