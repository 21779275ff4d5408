// CommitGate: the one policy by which a node's output leaves it — what goes at once, what
// waits for the store's commit, what is batched. The runtime's NodeDriver and the
// simulator both run a node through it, so the simulator's seeds test the ordering that
// production runs.
//
// The node writes its records through the gate's StagedStore (`store()`); they reach the
// store beneath only at `commit()`, in one atomic batch. After every input the driver
// hands the gate the node's outbox (`take()`), which it sorts:
//  - member changes: released at once (they report, they promise nothing);
//  - membership datagrams (probes, acks and the gossip they carry): released at once and
//    alone, as the failure detector's timing assumes (see wire/datagram_batcher.h);
//  - key-value datagrams (invalidations, queries, answers): packed per peer and held until
//    the next `commit()`, so that a burst of requests costs one datagram per peer;
//  - stream messages, client replies and change events: released at once while no write
//    is staged, and otherwise held until the `commit()` of the writes staged before them
//    (a failed commit drops the events: the node then resets its feed).
//
// The ordering contract — what the driver must do (raft's `Ready` states its own as "save
// entries before sending messages"):
//  1. Perform what `take()` and `commit()` release in the order they give it: member
//     changes, then sends, then replies.
//  2. Call `commit()` when `commit_due()`, once the inputs already waiting have been fed
//     in (that is the batch); when `commit_urgent()`, before the next input.
//  3. Perform nothing `commit()` releases before the store has accepted the batch. A
//     commit that fails releases none of what it held: held messages and batched
//     datagrams are dropped, never to be sent, and every held reply becomes an error
//     reply carrying the store's error. The driver must then tell the node
//     (`Node::on_commit_failed`), whose kernel has acted on writes that were not stored.
//     From then on the StagedStore writes straight through to the failing store until it
//     takes a write again (staged_store.h).
// So no client and no peer hears of a write before the store holds it.
//
// Pure and deterministic. Not thread-safe: used by whatever runs the node (a strand).
#pragma once

#include <cstddef>
#include <vector>

#include "kernel/kv/staged_store.h"
#include "kernel/outbox.h"
#include "kernel/wire/datagram_batcher.h"

namespace ckv {

// What a driver performs now, in this order: changes, sends, replies. The same lists as
// the kernel's Outbox: what the gate releases of it.
using Effects = Outbox;

class CommitGate {
 public:
  // Past this many staged bytes a commit is urgent: staged writes live in memory.
  static constexpr size_t kMaxStagedBytes = 8 << 20;

  // `durable` must outlive the gate. The datagram limits are the membership config's.
  CommitGate(Store& durable, size_t datagram_budget, size_t max_datagram_frames);

  // The Store to give the node: reads see staged writes; writes wait for commit().
  Store& store() { return staged_; }

  // Takes everything in `out` (leaving it empty) and appends to `now` what may be
  // performed at once; holds or batches the rest.
  void take(Outbox& out, Effects& now);

  // Something waits for commit(): staged writes, held output or batched datagrams.
  bool commit_due() const { return !staged_.empty() || !batcher_.empty(); }
  // The staged writes hold more memory than they should: commit before the next input.
  bool commit_urgent() const { return staged_.staged_bytes() > kMaxStagedBytes; }
  bool writes_staged() const { return !staged_.empty(); }
  const StagedStore& staged_store() const { return staged_; }
  // Set while the store beneath is failing (see staged_store.h): its last error.
  const std::optional<Error>& store_failing() const { return staged_.failing(); }
  // Writes go straight through to the store beneath until it takes one (see
  // StagedStore::set_failing): for a store known to refuse writes when the node starts.
  void store_refuses_writes(Error why) { staged_.set_failing(std::move(why)); }
  size_t staged_writes() const { return staged_.staged_writes(); }

  // Writes the staged records to the store beneath in one batch. On success appends to
  // `now` everything held, then the batched datagrams. On failure appends an error reply
  // for each held reply, drops the rest of what was held and batched, and returns the
  // store's error: the driver must call Node::on_commit_failed.
  Status commit(Effects& now);

 private:
  StagedStore staged_;
  wire::DatagramBatcher batcher_;
  Effects held_;  // stream messages and replies of inputs that ran while writes were staged
};

}  // namespace ckv
