// NodeStats: counters a node keeps about its own work, for metrics and tests.
#pragma once

#include <array>
#include <cstdint>

#include "kernel/core/result.h"

namespace ckv {

struct NodeStats {
  uint64_t datagrams_received = 0;
  uint64_t streams_received = 0;
  uint64_t bytes_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t streams_sent = 0;
  uint64_t bytes_sent = 0;

  // Input rejected by the wire decoder, in total and by ErrorCode.
  uint64_t decode_errors = 0;
  std::array<uint64_t, kErrorCodeCount> decode_errors_by_code{};

  uint64_t probes_sent = 0;
  uint64_t probes_failed = 0;  // no ack, directly or indirectly, within the interval
  uint64_t indirect_probes_sent = 0;
  uint64_t nacks_received = 0;
  uint64_t suspicions_started = 0;  // members this node began to suspect
  uint64_t suspicion_confirmations = 0;
  uint64_t suspicion_timeouts = 0;  // suspicions this node turned into "dead"
  uint64_t refutations = 0;         // times this node refuted news of its own failure
  uint64_t misdirected_pings = 0;   // pings for a name that is not ours
  uint64_t address_conflicts = 0;   // alive news giving a live member another address
  uint64_t relays_dropped = 0;      // indirect pings refused: not from a member, or too many
  uint64_t wrong_channel = 0;       // push-pulls that came as datagrams, ignored
  uint64_t members_refused = 0;     // new members refused because the table was full
  uint64_t push_pulls_sent = 0;
  uint64_t push_pulls_received = 0;
  uint64_t join_attempts = 0;
  uint64_t reconnect_attempts = 0;
  uint64_t stranger_contacts = 0;  // push-pulls to members heard from before heard of

  // Key-value layer.
  uint64_t gets = 0;
  uint64_t gets_local = 0;   // answered from a current local copy
  uint64_t gets_remote = 0;  // needed a cluster read
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t store_errors = 0;
  uint64_t queries_sent = 0;            // query datagrams, retries included
  uint64_t query_retries = 0;           // rounds of re-asking silent members
  uint64_t query_timeouts = 0;          // reads that ended at their timeout
  uint64_t reads_reissued = 0;          // reads asked again: answers older than an invalidation
  uint64_t queries_answered = 0;        // queries from others
  uint64_t invalidations_sent = 0;      // entries, resends included
  uint64_t invalidations_received = 0;  // entries
  uint64_t invalidations_refused = 0;   // from a non-member
  uint64_t invalidation_gaps = 0;       // batches that arrived ahead of a missing one
  uint64_t copies_dropped = 0;          // local copies replaced by a newer version's marker
  uint64_t resets_sent = 0;
  uint64_t resets_received = 0;
  uint64_t epoch_bumps = 0;   // times every copy became due for revalidation
  uint64_t repairs_sent = 0;  // newer versions told to a writer or a reader's responders
  uint64_t repairs_received = 0;
  // Own writes announced again because another node's write lost to them.
  uint64_t repairs_announced = 0;
};

}  // namespace ckv
