// GapChecker: a node that sees a member go or come back stops trusting its copies.
//
// When node R records a member as failed or departed, the invalidations that member sent
// and R never got will never come; when it records one as back (or new), that member may
// hold versions R never heard of. Either way R must revalidate a copy before it serves it
// as current again, and revalidating asks every member R counts as active. So the promise
// can be judged against those members: at the moment of the change, for each key R holds a
// value or tombstone of, the simulation notes every active member (a *witness*) that holds a
// newer version. Until that witness restarts or R records any change about it, R must not
// answer a local, current read of the key with its old copy or anything older. (Versions
// above R's old copy, such as R's own later writes, are not judged here: kv_checker.h has
// the rules for those.)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/kv/version.h"
#include "kernel/membership/member.h"

namespace ckv::sim {

// Whether a change a node records about another member opens a gap there: the member goes
// (fails or leaves), comes back (or is new), or turns out to have lived again unseen (dead
// news at a newer incarnation, or its leave announced while held dead). Forgetting a member
// (reaping) opens none.
bool opens_gap(const MemberChange& change);

class GapChecker {
 public:
  explicit GapChecker(uint32_t nodes);

  // `observer` recorded a change about `subject` (any change: a witness stops counting).
  void on_view_change(uint32_t observer, uint32_t subject);
  // After a member went or came back in `observer`'s view: it held `held` of `key`, while
  // `witness`, active in its view, held `newer` (higher).
  void on_gap(uint32_t observer, uint32_t key, const Version& held, uint32_t witness,
              const Version& newer);
  // `node`'s process crashed: its own notes go, and it witnesses nothing noted before.
  void on_crash(uint32_t node);
  // `node` dropped its old records, back from a long absence: it may no longer hold what it
  // witnessed.
  void on_absence_drop(uint32_t node) { forget_witness(std::nullopt, node); }
  // A local, current answer `served` of `key` by `observer`: what is wrong with it, if
  // anything.
  std::optional<std::string> check_local_hit(uint32_t observer, uint32_t key,
                                             const Version& served) const;

 private:
  struct Note {
    Version held;
    Version newer;
    uint32_t witness;
  };
  // Drops `observer`'s notes whose witness is `witness` (every observer's, when null).
  void forget_witness(std::optional<uint32_t> observer, uint32_t witness);

  // Per observer, per key. A note lives while its witness counts: it goes when the
  // witness restarts or its observer records any change about it, so nothing is kept per
  // pair of nodes (a 1,000-node run records a million changes as it forms).
  std::vector<std::map<uint32_t, std::vector<Note>>> notes_;
};

}  // namespace ckv::sim
