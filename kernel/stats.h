// NodeStats: counters a node keeps about its own work, for metrics and tests.
// kNodeCounters names every counter once, with its Prometheus name and help text: the
// runtime exports the table as it is, and a counter added to NodeStats without a row
// there does not compile.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

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
  uint64_t tag_changes = 0;         // times this node gave itself new tags
  uint64_t forced_leaves = 0;       // failed members an operator marked left here
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
  uint64_t commit_failures = 0;      // batches the store refused after the kernel acted on them
  uint64_t values_expired = 0;       // values a get found past their TTL (made tombstones)
  uint64_t copies_evicted = 0;       // copies replaced by markers to stay within the bound
  uint64_t writes_refused_full = 0;  // own writes refused: they would pass the bound
  uint64_t records_collected = 0;    // tombstones, markers, expired values removed
  uint64_t collect_rounds = 0;       // collection checks completed by every member (both)
  uint64_t collect_rounds_abandoned = 0;  // ended without collecting (see collection.cpp)
  uint64_t collect_checks_answered = 0;   // other nodes' collection checks this node applied
  uint64_t records_dropped_absent = 0;    // old records dropped after a long absence
  uint64_t listings = 0;                  // key listings this node answered its clients
  uint64_t listings_reissued = 0;         // listing rounds asked again: a write raced them
  uint64_t cond_writes = 0;               // conditional writes from this node's clients
  uint64_t cond_writes_forwarded = 0;     // of them, sent to the key's owner
  uint64_t cond_decided = 0;              // conditional writes this node decided as owner
  uint64_t cond_failed = 0;               // of them, refused: the condition did not hold
  uint64_t cond_unavailable = 0;          // answered "unavailable" (no owner, timeout, moving)
  uint64_t queries_sent = 0;              // query datagrams, retries included
  uint64_t query_retries = 0;             // rounds of re-asking silent members
  uint64_t query_timeouts = 0;            // reads that ended at their timeout
  uint64_t reads_reissued = 0;            // reads asked again: answers older than an invalidation
  uint64_t queries_answered = 0;          // queries from others
  uint64_t invalidations_sent = 0;        // entries, resends included
  uint64_t invalidations_received = 0;    // entries
  uint64_t invalidations_refused = 0;     // from a non-member
  uint64_t invalidation_gaps = 0;         // batches that arrived ahead of a missing one
  uint64_t copies_dropped = 0;            // local copies replaced by a newer version's marker
  uint64_t resets_sent = 0;
  uint64_t resets_received = 0;
  uint64_t epoch_bumps = 0;   // times every copy became due for revalidation
  uint64_t repairs_sent = 0;  // newer versions told to a writer or a reader's responders
  uint64_t repairs_received = 0;
  // Own writes announced again because another node's write lost to them.
  uint64_t repairs_announced = 0;
};

// One counter of NodeStats as /_cluster/metrics exports it.
struct NodeCounter {
  const char* metric;  // Prometheus name
  uint64_t NodeStats::*field;
  const char* help;
};

inline constexpr NodeCounter kNodeCounters[] = {
    {"ckv_datagrams_received_total", &NodeStats::datagrams_received,
     "Datagrams the kernel was given (after the transport opened them)."},
    {"ckv_streams_received_total", &NodeStats::streams_received,
     "Stream messages the kernel was given."},
    {"ckv_bytes_received_total", &NodeStats::bytes_received,
     "Bytes of the datagrams and stream messages the kernel was given."},
    {"ckv_datagrams_sent_total", &NodeStats::datagrams_sent, "Datagrams the kernel sent."},
    {"ckv_streams_sent_total", &NodeStats::streams_sent, "Stream messages the kernel sent."},
    {"ckv_bytes_sent_total", &NodeStats::bytes_sent, "Bytes the kernel sent."},
    {"ckv_decode_errors_total", &NodeStats::decode_errors,
     "Packets the wire decoder rejected (by kind: ckv_decode_errors_by_code_total)."},
    {"ckv_probes_total", &NodeStats::probes_sent, "Failure-detector probes sent."},
    {"ckv_probes_failed_total", &NodeStats::probes_failed,
     "Probes with no ack within the interval."},
    {"ckv_indirect_probes_total", &NodeStats::indirect_probes_sent,
     "Indirect probes asked of other members."},
    {"ckv_nacks_received_total", &NodeStats::nacks_received,
     "Nacks: a helper reached us but not the member we asked it to probe."},
    {"ckv_suspicions_total", &NodeStats::suspicions_started, "Members this node began to suspect."},
    {"ckv_suspicion_confirmations_total", &NodeStats::suspicion_confirmations,
     "Independent confirmations of a suspicion this node holds."},
    {"ckv_suspicion_timeouts_total", &NodeStats::suspicion_timeouts,
     "Suspicions this node turned into dead."},
    {"ckv_refutations_total", &NodeStats::refutations,
     "Times this node refuted news of its failure."},
    {"ckv_tag_changes_total", &NodeStats::tag_changes, "Times this node gave itself new tags."},
    {"ckv_forced_leaves_total", &NodeStats::forced_leaves,
     "Failed members an operator marked left through this node."},
    {"ckv_misdirected_pings_total", &NodeStats::misdirected_pings,
     "Pings for a name that is not this node's."},
    {"ckv_address_conflicts_total", &NodeStats::address_conflicts,
     "Alive news giving a live member another address."},
    {"ckv_relays_dropped_total", &NodeStats::relays_dropped,
     "Indirect pings refused: not from a member, or too many at once."},
    {"ckv_wrong_channel_total", &NodeStats::wrong_channel,
     "State exchanges that came as datagrams, ignored."},
    {"ckv_members_refused_total", &NodeStats::members_refused,
     "New members refused because the member table was full."},
    {"ckv_push_pulls_total", &NodeStats::push_pulls_sent, "Full state exchanges started."},
    {"ckv_push_pulls_received_total", &NodeStats::push_pulls_received,
     "Full state exchanges others started with this node."},
    {"ckv_join_attempts_total", &NodeStats::join_attempts, "Join attempts to the seeds."},
    {"ckv_reconnect_attempts_total", &NodeStats::reconnect_attempts,
     "Attempts to reach members held dead (healing a partition)."},
    {"ckv_stranger_contacts_total", &NodeStats::stranger_contacts,
     "Full state exchanges started with a member heard from before it was heard of."},
    {"ckv_gets_total", &NodeStats::gets, "Client gets the kernel handled."},
    {"ckv_gets_local_total", &NodeStats::gets_local,
     "Gets answered from a current local copy by the kernel (see also ckv_gets_fast_total)."},
    {"ckv_gets_remote_total", &NodeStats::gets_remote, "Gets that needed a cluster read."},
    {"ckv_puts_total", &NodeStats::puts, "Client puts."},
    {"ckv_deletes_total", &NodeStats::deletes, "Client deletes."},
    {"ckv_store_errors_total", &NodeStats::store_errors, "Store operations that failed."},
    {"ckv_copies_evicted_total", &NodeStats::copies_evicted,
     "Copies replaced by markers of their versions to keep values within --max-data-mb."},
    {"ckv_writes_refused_full_total", &NodeStats::writes_refused_full,
     "Writes refused (507): this node's own writes would pass --max-data-mb."},
    {"ckv_values_expired_total", &NodeStats::values_expired,
     "Values a get found past their TTL (each then kept as a tombstone)."},
    {"ckv_listings_total", &NodeStats::listings, "Key listings answered to clients."},
    {"ckv_listings_reissued_total", &NodeStats::listings_reissued,
     "Listing rounds asked again because a write raced them."},
    {"ckv_cond_writes_total", &NodeStats::cond_writes,
     "Conditional writes (If-Match, If-None-Match) from this node's clients."},
    {"ckv_cond_writes_forwarded_total", &NodeStats::cond_writes_forwarded,
     "Conditional writes sent to the key's owner to decide."},
    {"ckv_cond_decided_total", &NodeStats::cond_decided,
     "Conditional writes this node decided as the key's owner."},
    {"ckv_cond_failed_total", &NodeStats::cond_failed,
     "Conditional writes this node refused as owner: the condition did not hold (412)."},
    {"ckv_cond_unavailable_total", &NodeStats::cond_unavailable,
     "Conditional writes answered unavailable: no owner reachable, a timeout, a hand-off."},
    {"ckv_records_collected_total", &NodeStats::records_collected,
     "Tombstones, markers and expired values removed past --tombstone-ttl."},
    {"ckv_collect_rounds_total", &NodeStats::collect_rounds,
     "Collection checks every member answered (two per batch of records collected)."},
    {"ckv_collect_rounds_abandoned_total", &NodeStats::collect_rounds_abandoned,
     "Collection checks ended without collecting (a member changed, refused or was silent)."},
    {"ckv_collect_checks_answered_total", &NodeStats::collect_checks_answered,
     "Other nodes' collection checks this node applied and answered."},
    {"ckv_records_dropped_absent_total", &NodeStats::records_dropped_absent,
     "Records older than the horizon dropped because this node was away longer than half of it."},
    {"ckv_commit_failures_total", &NodeStats::commit_failures,
     "Batches of writes the store refused (each ends as error replies, never as a crash)."},
    {"ckv_queries_sent_total", &NodeStats::queries_sent,
     "Questions sent for cluster reads, retries included."},
    {"ckv_query_retries_total", &NodeStats::query_retries,
     "Rounds of asking silent members again."},
    {"ckv_query_timeouts_total", &NodeStats::query_timeouts,
     "Cluster reads that ended at a timeout."},
    {"ckv_reads_reissued_total", &NodeStats::reads_reissued,
     "Cluster reads asked again: their answers were older than an invalidation."},
    {"ckv_queries_answered_total", &NodeStats::queries_answered,
     "Questions of other nodes' cluster reads answered."},
    {"ckv_invalidations_sent_total", &NodeStats::invalidations_sent,
     "Invalidation entries sent, resends included."},
    {"ckv_invalidations_received_total", &NodeStats::invalidations_received,
     "Invalidation entries received."},
    {"ckv_invalidations_refused_total", &NodeStats::invalidations_refused,
     "Invalidations refused: not from a member."},
    {"ckv_invalidation_gaps_total", &NodeStats::invalidation_gaps,
     "Invalidation batches that arrived ahead of a missing one."},
    {"ckv_copies_dropped_total", &NodeStats::copies_dropped,
     "Local copies replaced by a newer version's marker."},
    {"ckv_invalidation_resets_sent_total", &NodeStats::resets_sent,
     "Resets sent: a member missed more than this node's log holds."},
    {"ckv_invalidation_resets_received_total", &NodeStats::resets_received,
     "Resets received from a writer whose log no longer held what we missed."},
    {"ckv_epoch_bumps_total", &NodeStats::epoch_bumps,
     "Times every copy became due for revalidation."},
    {"ckv_repairs_sent_total", &NodeStats::repairs_sent,
     "Newer versions told to a writer or to a reader's responders."},
    {"ckv_repairs_received_total", &NodeStats::repairs_received,
     "Newer versions this node was told of."},
    {"ckv_repairs_announced_total", &NodeStats::repairs_announced,
     "Own writes announced again because another node's write lost to them."},
};

// Every counter has its row: NodeStats is the counters above and decode_errors_by_code.
static_assert(sizeof(NodeStats) == sizeof(uint64_t) * (std::size(kNodeCounters) + kErrorCodeCount),
              "a NodeStats counter without a row in kNodeCounters (or a row too many)");

}  // namespace ckv
