// Member: what one node knows about one member of the cluster (itself included).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernel/core/address.h"
#include "kernel/core/compact_string.h"
#include "kernel/core/time.h"
#include "kernel/wire/messages.h"

namespace ckv {

using wire::Incarnation;
using wire::MemberState;

// A member's tags, held out of line: a pointer's room in Member (which is kept small, see
// member_table_test), and nothing allocated for a member without tags. Copies are deep.
class MemberTags {
 public:
  MemberTags() = default;
  MemberTags(const wire::Tags& tags) { set(tags); }  // NOLINT: converts, as Tags do
  MemberTags(const MemberTags& other) { set(other.get()); }
  MemberTags& operator=(const MemberTags& other) {
    if (this != &other) set(other.get());
    return *this;
  }
  MemberTags(MemberTags&&) noexcept = default;
  MemberTags& operator=(MemberTags&&) noexcept = default;
  MemberTags& operator=(const wire::Tags& tags) {
    set(tags);
    return *this;
  }

  const wire::Tags& get() const { return tags_ ? *tags_ : kNone; }
  operator const wire::Tags&() const { return get(); }  // NOLINT: reads as Tags
  bool empty() const { return get().empty(); }
  size_t size() const { return get().size(); }
  friend bool operator==(const MemberTags& a, const wire::Tags& b) { return a.get() == b; }

 private:
  static inline const wire::Tags kNone{};
  void set(const wire::Tags& tags) {
    tags_ = tags.empty() ? nullptr : std::make_unique<wire::Tags>(tags);
  }
  std::unique_ptr<wire::Tags> tags_;
};

struct Member {
  CompactString name;
  Address addr;
  Incarnation incarnation = 0;
  MemberState state = MemberState::kDead;
  // False: the news of `incarnation` came through a node of an earlier wire revision,
  // without tags; `tags` are then those of an earlier incarnation, and the member's own
  // news of this one, when it comes, is taken for its tags.
  bool tags_said = true;
  MonoTime state_since{};  // when `state` last changed
  MemberTags tags;         // as the member gave them at `incarnation`

  bool alive() const { return state == MemberState::kAlive; }
  // Alive or suspect: still a member as far as probing and gossip are concerned.
  bool active() const { return state == MemberState::kAlive || state == MemberState::kSuspect; }
  bool gone() const { return state == MemberState::kDead || state == MemberState::kLeft; }
};

// A change in a node's view of one member; the kernel reports each as an output.
struct MemberChange {
  MonoTime at;
  std::string name;
  Address addr;
  MemberState from_state;
  Incarnation from_incarnation;
  MemberState to_state;
  Incarnation to_incarnation;
  bool is_new;  // the member was not in the table before
  bool reaped;  // the member was removed from the table (to_state is its last state)
};

}  // namespace ckv
