// KvConfig: the tunables of the key-value layer, with defaults.
#pragma once

#include <chrono>
#include <cstddef>

#include "kernel/core/time.h"

namespace ckv {

// The longest time to live a write may ask for: ten years.
inline constexpr Duration kMaxTtl = std::chrono::hours(24 * 365 * 10);

struct KvConfig {
  using ms = std::chrono::milliseconds;

  size_t max_key_bytes = 1024;
  size_t max_value_bytes = 16 * 1024 * 1024;

  // Time to live of a value written without its own (zero: values never expire), and the
  // longest a write may ask for.
  Duration default_ttl{0};
  Duration max_ttl = kMaxTtl;
  // Bytes of values a node keeps (0: no bound). Copies are evicted (least recently used
  // first, roughly) to stay within it; an own write that would pass it is refused.
  uint64_t max_data_bytes = 0;
  // Tombstones, markers and expired values older than this are collected, once every
  // member has confirmed it holds nothing older (zero: kept for ever). A node cut off
  // from every other member, or down, for more than half of it drops its records older
  // than three quarters of it when it is back (see docs/kv-protocol.md, "Collection").
  // It must be more than twice max_query_timeout.
  Duration tombstone_horizon = std::chrono::hours(24 * 7);

  // How long a cluster read waits for members that do not answer. Zero: serf's formula,
  // gossip_interval * 16 * ceil(log10(n + 1)) (3.2 s up to 9 members). A get may bring
  // its own, clamped to [1 ms, max_query_timeout].
  Duration query_timeout{0};
  Duration max_query_timeout = std::chrono::minutes(5);
  Duration query_retry = ms(100);  // re-ask silent members, doubling each time
  // How long a read waits for the writer of the newest version it knows of to become a
  // member, when nobody who answered holds that version (news of a new member is still
  // spreading); past it, or once that writer is known to be gone, the read answers a 404
  // flagged not current.
  Duration unknown_writer_wait = ms(1000);
  size_t max_pending_queries = 100000;
  // Keys whose last version the change feed remembers (for its watchers' per-key order);
  // past it, it forgets them all and tells its watchers to re-read (kv/change_feed.h).
  size_t max_feed_keys = 100000;
  // A node joining a cluster holds reads until it has joined, up to this long: before, it
  // knows no member to ask and would answer 404 for keys the cluster holds.
  Duration join_wait = std::chrono::seconds(5);

  // Conditional writes (If-Match, If-None-Match) are decided by the key's owner (see
  // kv/key_value.h): one that is not decided within `cas_timeout` of its arrival answers
  // "unavailable" (if it reached the owner, maybe written). A node becomes the owner of a
  // key only `cas_handoff` after it joined and after the member that owned it before was
  // gone from its view: the previous owner's decisions in flight end meanwhile, and news
  // of the change spreads.
  Duration cas_timeout = std::chrono::seconds(5);
  Duration cas_handoff = std::chrono::seconds(2);

  // Answers carrying a value larger than this go over the stream channel.
  size_t inline_value_bytes = 1024;

  // Invalidations: writes within `batch_delay` leave together; a member that has not
  // acknowledged gets them again every `resend_interval`. The log keeps the newest
  // entries for members that fall behind; one that falls further behind is reset (it
  // revalidates its copies) rather than fed forever.
  Duration batch_delay = ms(1);
  Duration resend_interval = ms(200);
  size_t log_entries = 65536;
  size_t log_bytes = 16 * 1024 * 1024;
  size_t stream_chunk_bytes = 1024 * 1024;  // invalidation batches too big for a datagram

  friend bool operator==(const KvConfig&, const KvConfig&) = default;
};

}  // namespace ckv
