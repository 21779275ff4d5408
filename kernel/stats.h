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
};

}  // namespace ckv
