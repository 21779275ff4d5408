// MemberTable: one node's list of members, itself included.
//
// The list order is the probe order: new members go in at a random position and
// `shuffle` reorders the whole list, as SWIM's round-robin probing wants. Lookup by name
// goes through a flat open-addressing index (4 bytes a slot, at most half full), so a
// member costs 48 bytes at 1000 members. The table keeps a count of members per state;
// change a member's state only through `set_state` so the counts stay true.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "kernel/core/hash.h"
#include "kernel/core/random.h"
#include "kernel/membership/member.h"

namespace ckv {

class MemberTable {
 public:
  // Keys the name hash; call before the first insert.
  void set_hash_key(uint64_t key) { hash_key_ = key; }

  Member* find(std::string_view name);
  const Member* find(std::string_view name) const;

  // Adds a member whose name is not in the table, at a random position.
  Member& insert(Member member, Prng& rng);

  void set_state(Member& member, MemberState state, MonoTime now);

  // Removes every member for which `pred` is true; returns them.
  std::vector<Member> remove_if(const std::function<bool(const Member&)>& pred);

  // Puts the members in a new random order.
  void shuffle(Prng& rng);

  size_t size() const { return members_.size(); }
  size_t count(MemberState state) const { return counts_[static_cast<size_t>(state)]; }
  // Alive or suspect members, this node included: the cluster size the protocol scales by.
  size_t active_count() const { return count(MemberState::kAlive) + count(MemberState::kSuspect); }

  Member& operator[](size_t i) { return members_[i]; }
  const Member& operator[](size_t i) const { return members_[i]; }
  auto begin() const { return members_.begin(); }
  auto end() const { return members_.end(); }

  // Heap bytes held (the member vector and the index), for memory accounting.
  size_t heap_bytes() const;

 private:
  size_t home_slot(std::string_view name) const;
  // The slot holding `name`, or the empty slot where it would go.
  size_t probe_slot(std::string_view name) const;
  void rebuild_index();

  std::vector<Member> members_;
  std::vector<uint32_t> slots_;  // 0 = empty, otherwise member index + 1
  std::array<size_t, wire::kMemberStateCount> counts_{};
  uint64_t hash_key_ = kFnvOffset;
};

}  // namespace ckv
