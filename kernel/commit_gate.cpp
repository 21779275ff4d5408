#include "kernel/commit_gate.h"

#include <utility>

#include "kernel/core/assert.h"

namespace ckv {

CommitGate::CommitGate(Store& durable, size_t datagram_budget, size_t max_datagram_frames)
    : staged_(durable), batcher_(datagram_budget, max_datagram_frames) {}

void CommitGate::take(Outbox& out, Effects& now) {
  // Writes staged by this input or an earlier one of the batch: hold what may tell of them.
  CKV_ASSERT(held_.changes.empty() && (held_.empty() || !staged_.empty()),
             "output is held only behind staged writes");
  const bool hold = !staged_.empty();
  for (MemberChange& c : out.changes)
    now.changes.push_back(std::move(c));
  for (Send& s : out.sends) {
    if (s.channel == Channel::kDatagram && batcher_.add(s.to, s.bytes)) continue;  // key-value
    (hold && s.channel == Channel::kStream ? held_ : now).sends.push_back(std::move(s));
  }
  for (Reply& r : out.replies)
    (hold ? held_ : now).replies.push_back(std::move(r));
  for (ChangeEvent& e : out.events)
    (hold ? held_ : now).events.push_back(std::move(e));
  out.clear();
}

Status CommitGate::commit(Effects& now) {
  Status stored = staged_.commit();
  if (!stored.ok()) {
    // Every held reply may tell of a write that was not stored: each becomes the store's
    // error instead. Held messages, batched datagrams and change events are dropped (peers
    // resend; the node's on_commit_failed resets its change feed).
    for (Reply& r : held_.replies) {
      Reply failed{r.request, r.op, ReplyStatus::kError};
      failed.code = stored.error().code;
      failed.error = "the store failed to write this request's batch: " + stored.error().detail;
      now.replies.push_back(std::move(failed));
    }
    held_.clear();
    batcher_.drain([](const Address&, std::vector<uint8_t>&&) {});
    CKV_ASSERT(staged_.empty() && held_.empty() && batcher_.empty(),
               "a failed commit drops everything it held");
    return stored;
  }
  for (Send& s : held_.sends)
    now.sends.push_back(std::move(s));
  for (Reply& r : held_.replies)
    now.replies.push_back(std::move(r));
  for (ChangeEvent& e : held_.events)
    now.events.push_back(std::move(e));
  held_.clear();
  batcher_.drain([&now](const Address& to, std::vector<uint8_t>&& bytes) {
    now.sends.push_back(Send{to, Channel::kDatagram, std::move(bytes)});
  });
  CKV_ASSERT(staged_.empty() && held_.empty() && batcher_.empty(), "nothing waits after a commit");
  return {};
}

}  // namespace ckv
