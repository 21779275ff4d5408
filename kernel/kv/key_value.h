// KeyValue: the key-value layer of a node — versioned writes, invalidation logs, epochs,
// cluster reads — as a pure state machine beside Membership. The protocol is described in
// docs/kv-protocol.md; the implementation is split in five: key_value.cpp (client
// operations, writes, epochs, member changes, timers), invalidations.cpp,
// cluster_read.cpp, collection.cpp (removing tombstones, markers and expired values
// past the horizon, and what a node that was away long does), conditional_writes.cpp and
// listing.cpp (listing the keys the cluster holds: a scatter-gather of every member's
// records, merged by version).
//
// Conditional writes (compare-and-set without consensus): every conditional write of a
// key is decided by one node, the key's owner: the highest rendezvous score of the key
// among this node (once joined) and the members it holds active. The owner takes them
// one at a time per key: a cluster read that every member answers (never a local copy),
// then the condition, then, if it holds, the write, stamped above the version read, in
// the same input. So while views agree, two conditional writes of a key never both
// succeed from the same state, and none succeeds against a state a write acknowledged
// before it began had replaced. A node decides for a key only `cas_handoff` after it
// joined and after any member that outranked it for the key was gone from its view; a
// non-owner forwards to the owner and answers "unavailable" if the owner does not answer
// within `cas_timeout`. Views that disagree (a split, a member falsely held dead) may
// have two owners: README "Conditional writes" states the guarantee and its limits.
//
// Contract: driven only through Node, one input at a time (not thread-safe); every effect
// goes to the Outbox; a Store error is answered as an error reply, never thrown.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kernel/core/random.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/kv/change_feed.h"
#include "kernel/kv/client.h"
#include "kernel/kv/config.h"
#include "kernel/kv/data_bound.h"
#include "kernel/kv/hlc.h"
#include "kernel/kv/invalidation_log.h"
#include "kernel/kv/store.h"
#include "kernel/membership/config.h"
#include "kernel/membership/membership.h"
#include "kernel/outbox.h"
#include "kernel/stats.h"

namespace ckv {

class KeyValue {
 public:
  // Reads the store's meta (clock ceiling, epoch) and starts a new epoch. A store that
  // cannot take the new epoch (a full disk) does not stop it: it then serves no local copy
  // until it can (serving_epoch() is 0).
  static Result<std::unique_ptr<KeyValue>> open(const KvConfig& config,
                                                const MembershipConfig& membership_config,
                                                const Membership& membership, Store& store,
                                                uint64_t seed, Outbox& out, NodeStats& stats);

  void get(Now now, uint64_t request, std::string_view key, std::optional<Duration> timeout);
  // The rule a get uses to answer from the local copy without asking the cluster: the
  // copy (value or tombstone) was confirmed current in `epoch`, the node's serving epoch
  // now; never for epoch 0 (no epoch is being served).
  // Fills `out` (status, version, value) and returns true if it may. Pure: a driver may
  // apply it to a store read and a published epoch on another thread, which answers like
  // a get that ran at the moment of the read.
  // A value whose TTL has run out by `wall_us` is answered as a 404 of its version.
  static bool answer_locally(Record& local, uint64_t epoch, uint64_t wall_us, Reply& out);
  // `ttl`: the value expires that long after `now.wall` (none: KvConfig::default_ttl).
  // `content`: what the value is (kv/content_type.h), kept and returned with it; one that
  // is not valid_content_type is refused as an invalid argument.
  void put(Now now, uint64_t request, std::string_view key, std::string value,
           std::optional<Duration> ttl = std::nullopt, ContentType content = {});
  void erase(Now now, uint64_t request, std::string_view key);
  // The change feed (kv/change_feed.h): its events go to the outbox while some prefix is
  // watched. Counted: each watch needs its own unwatch.
  void watch(std::string_view prefix) { feed_.watch(prefix); }
  void unwatch(std::string_view prefix) { feed_.unwatch(prefix); }
  const ChangeFeed& change_feed() const { return feed_; }
  // A put (`erase` false) or delete whose `condition` (not kNone) the key's owner checks
  // first; answered kOk, kPreconditionFailed or kError (kUnavailable: undecided, or the
  // owner did not answer in time -- then it may have been written).
  void write_if(Now now, uint64_t request, std::string_view key, bool erase, std::string value,
                std::optional<Duration> ttl, WriteCondition condition, ContentType content = {});
  // Lists the keys with a value that start with `prefix` and sort after `after`, at most
  // `limit` (1..kMaxListLimit), from every active member's records and this node's,
  // merged by version (a key deleted or overwritten on one member does not come back
  // from a stale copy on another); waits for silent members up to `timeout` (none: the
  // query timeout). Answered with a kList Reply (keys, next, current). With `values`, each
  // key comes with its value and content type, and a page also ends once its values pass
  // wire::kListValueBytes from any one member (`next` then says where to go on).
  static constexpr size_t kMaxListLimit = 10000;
  void list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
            size_t limit, std::optional<Duration> timeout = std::nullopt, bool values = false);
  // The rendezvous score that makes a node a key's owner (highest wins).
  static uint64_t owner_score(std::string_view key, std::string_view node);

  void handle(Now now, const Address& from, Channel channel, wire::Message&& message);
  // Member changes from this input: reads stop waiting for members that are gone, and ask
  // those that appear. Then settle_reads, once the whole input is handled: the reads that
  // waited only for members now gone end then (one packet may bury one member and bring
  // back another: a read must not end on the first before it has asked the second).
  void on_member_change(Now now, const MemberChange& change);
  void settle_reads(Now now);
  void on_timer(Now now);
  MonoTime next_deadline() const;
  // Copies served without this layer (a driver's local hits): used, for eviction.
  void note_local_hits(std::span<const std::string> keys) {
    for (const std::string& key : keys)
      bound_.touch(key);
  }
  // The store refused a batch of writes this layer had already acted on (see
  // commit_gate.h): forgets what it did on their strength, as a restart would, and goes on.
  void on_commit_failed(Now now);

  uint64_t epoch() const { return epoch_; }
  // The latest wall-clock time (microseconds) of any input: expiry is judged by it, so a
  // value once expired here stays expired if the wall clock steps back. A driver that
  // answers local hits on other threads judges them by the later of it and its clock.
  uint64_t expiry_clock_us() const { return wall_floor_us_; }
  // Advances the expiry clock to `now.wall` (never back). Every input calls it first (Node
  // does, before membership runs: a member change may end a read).
  void observe(Now now);
  // The epoch whose copies may be served without asking the cluster: `epoch()`, or 0
  // (which no copy carries) while an epoch bump could not be stored (see bump_or_owe).
  uint64_t serving_epoch() const { return epoch_owed_ ? 0 : epoch_; }
  uint64_t log_id() const { return log_.id(); }
  // Follower state this node's log keeps, and origins whose logs it keeps state for.
  size_t log_followers() const { return log_.followers(); }
  size_t known_origins() const { return origins_.size(); }
  size_t pending_queries() const { return queries_.size(); }
  const DataBound& data_bound() const { return bound_; }
  // Times this node dropped its old records after a long absence (see collection.cpp),
  // and the version wall time below which the last one dropped them.
  uint64_t absence_drops() const { return absence_drops_; }
  // Whether it is away at wall-clock microsecond `wall_us` (by its inputs so far): it then
  // drops its old records when it is next probed or asked.
  bool away(uint64_t wall_us) const;
  uint64_t last_absence_cutoff_us() const { return last_absence_cutoff_us_; }
  // Conditional writes this node is deciding or waiting to decide as owner, and those it
  // forwarded that await the owner's answer.
  size_t conditional_writes_pending() const { return decisions_pending_ + forwarded_.size(); }

 private:
  struct Candidate {
    RecordKind kind = RecordKind::kInvalidated;
    Version version;
    std::string value;
    uint64_t expires_us = 0;  // kValue: see Record
    ContentType content;      // kValue: see Record
  };
  struct Waiter {
    uint64_t request;
    MonoTime deadline;  // each get keeps its own timeout
    uint32_t round;     // the first round of questions asked after the get arrived
    // The round it waited out first (Reply::rounds counts from it): `round`, or, for a get
    // that joined a read in flight, the round then in flight, whose answers it waited for
    // before its own were asked.
    uint32_t counted_from;
  };
  struct Query {
    uint64_t id;
    std::string key;
    std::vector<Waiter> requests;  // gets waiting on this read
    MonoTime last_ask;
    MonoTime next_retry;
    Duration retry_every;
    std::vector<std::string> waiting;  // members asked that have not answered
    size_t asked = 0;
    size_t answered = 0;
    std::optional<Candidate> best;
    uint32_t rounds = 1;
    std::vector<uint64_t> responders;  // node ids of the members that answered this round
    MonoTime parked_until = kNever;    // waiting for an unknown writer (see seek_writer)
    // Who answered holding which version: those behind the result get a read repair.
    std::vector<std::pair<std::string, Version>> holders;
    Version floor;        // highest version invalidated while the read was in flight
    Version round_floor;  // `floor` when the current round of questions went out
    uint64_t epoch = 0;   // this node's epoch then: a gap opening meanwhile voids the round
    // The version of this node's own record of the key when it was last read (merge_local,
    // or the read that started the query); none: no record.
    std::optional<Version> local_version;
  };
  struct HeldWrite {
    uint64_t request;
    ClientOp op;
    std::string key;
    std::string value;
    uint64_t expires_us;
    ContentType content;
  };
  struct HeldRead {
    uint64_t request;
    std::string key;
    std::optional<Duration> timeout;
    MonoTime arrived;
    MonoTime until;  // read anyway at this time, joined or not
  };
  // What we applied of an origin's log. An origin without one is treated as log id 0
  // (log ids are odd): whatever it sends next starts a new epoch.
  struct OriginState {
    uint64_t log_id = 0;
    uint64_t applied = 0;
  };

  KeyValue(const KvConfig& config, const MembershipConfig& membership_config,
           const Membership& membership, Store& store, uint64_t seed, uint64_t clock_ceiling,
           uint64_t epoch, Outbox& out, NodeStats& stats);

  void write(Now now, uint64_t request, ClientOp op, std::string_view key, std::string value,
             uint64_t expires_us, ContentType content);
  // A get of a valid key by a node that has joined (or has waited long enough).
  void read(Now now, uint64_t request, std::string_view key, std::optional<Duration> timeout);
  // Runs the held reads that may run now: all of them once joined, else those due.
  void release_held_reads(Now now);
  void release_held_writes(Now now);
  Status bump_epoch();
  // For gaps that no message will resend (a member failed, left or came back): bumps the
  // epoch, or, if the store cannot keep it now, owes the bump. While it is owed no copy
  // is served without asking the cluster, and on_timer retries it every resend_interval.
  void bump_or_owe(MonoTime now);

  void on_invalidate(MonoTime now, const Address& from, wire::Invalidate&& m);
  void on_invalidate_ack(const Address& from, const wire::InvalidateAck& m);
  void on_invalidate_reset(const Address& from, const wire::InvalidateReset& m);
  void on_query(const Address& from, const wire::Query& m);
  void on_query_reply(Now now, const Address& from, wire::QueryReply&& m);
  void on_newer(MonoTime now, const Address& from, const wire::Newer& m);
  // Tells `member` the newer versions in `entries` (chunked to fit datagrams).
  void send_newer(const Address& to, std::vector<wire::KeyVersion> entries);
  // Drops copies of `key` older than `version`; in-flight reads of it raise their floor.
  // Returns the version this node now holds for the key (none if it holds no record, or
  // the store refused the marker), and in `*held_write` (if given) what was written at
  // the version it holds, as far as it knows.
  std::optional<Version> apply_invalidation(MonoTime now, std::string_view key,
                                            const Version& version,
                                            wire::EntryWrite* held_write = nullptr);
  // In-flight reads of `key` will not install anything older than `version`.
  void raise_query_floor(std::string_view key, const Version& version);
  bool is_member_address(const Address& addr) const;
  // Whether `from` is where the member called `name` lives (names in messages are claims).
  bool sent_by(std::string_view name, const Address& from) const;
  void ack(const Address& origin, uint64_t log_id, uint64_t applied);
  // Puts (key, version) in this node's invalidation log, to leave with the next batch
  // (`write`: what the write was, which watchers are told).
  void announce(MonoTime now, std::string_view key, const Version& version, wire::EntryWrite write);

  // Whether (kind, version) beats `best`: a higher version, or the same version held as a
  // value or tombstone rather than as a bare marker, or as a tombstone (expired) rather
  // than a value.
  static bool beats(RecordKind kind, const Version& version, const std::optional<Candidate>& best);
  // A value candidate whose TTL has run out by the expiry clock becomes a tombstone.
  void expire_if_due(Candidate& c) const;
  // `local`: this node's record of the key, just read (null: none).
  void start_query(Now now, std::string key, uint64_t request, Duration timeout,
                   const Record* local);
  void ask(Query& q, const std::vector<std::string>& members);
  // Ends `q`'s round and asks every active member again under a new query id (late
  // answers to the old round are then ignored); returns the query now in queries_.
  Query& next_round(Now now, Query&& q);
  // The newest version `q` found is only a marker: nobody who answered holds it. True if
  // its writer was asked now (an active member that was not asked this round) or may
  // still appear (not a member here yet): the read goes on. False if the writer is gone
  // or answered without it: the read ends.
  bool seek_writer(MonoTime now, Query& q);
  // A member that appeared (or came back) is asked by every read in flight.
  void join_reads(MonoTime now, const std::string& member);
  // Asks `member` in `q`'s current round.
  void ask_too(MonoTime now, Query& q, std::string_view member);
  // Keeps a marker of `version` for `key` unless the store holds that version or newer.
  void remember_newer(MonoTime now, std::string_view key, const Version& version);
  // --- collection (collection.cpp) ---
  struct CollectRound {
    uint64_t id = 0;
    bool second = false;  // the second check of the same entries
    std::vector<wire::KeyVersion> entries;
    std::vector<std::string> asked;  // every member in the table but this node
    std::vector<std::string> waiting;
    MonoTime resend_at = kNever;
    MonoTime give_up_at = kNever;
  };
  // Whether `record` may be collected now: a tombstone or marker, or a value past its TTL,
  // of a version older than the horizon by the expiry clock.
  bool collectable(const Record& record) const;
  // The members a collection round must hear from (every member in the table but this
  // node and those that left); false if collection must wait: one of them is not active,
  // this node has not joined, or it is cut off.
  bool collect_members(std::vector<std::string>& out) const;
  // Scans the store from the cursor for records to collect and checks them with every
  // member (or collects them at once when there is nobody to ask).
  void start_collection(Now now);
  void send_collect_check(const CollectRound& round, const std::vector<std::string>& to);
  // Removes the records of a round every member checked twice, if still the same.
  void finish_collection(MonoTime now, const std::vector<wire::KeyVersion>& entries);
  void abandon_collection(MonoTime now);
  void collection_timer(Now now);
  void on_collect_check(MonoTime now, const Address& from, const wire::CollectCheck& m);
  void on_collect_ack(MonoTime now, const Address& from, const wire::CollectAck& m);
  // Makes sure this node holds nothing older than `version` of `key` (a marker replaces an
  // older record; reads in flight install nothing older); false if the store refused.
  bool hold_nothing_older(MonoTime now, std::string_view key, const Version& version);
  // Member changes, for collection: a round in flight is void when the table changes.
  void collection_member_change(Now now, const MemberChange& change);
  // Absence: a node that no other member probed (Membership::probes_received) for more
  // than half the horizon, running or down, is away (others may hold it dead, forget it
  // and collect without it); when it is probed again, or asked first (`request`: a query
  // or a collection check came), it drops its old records before it answers anything.
  void check_contact(Now now, bool request);
  // Drops every record older than three quarters of the horizon (see collection.cpp).
  void drop_records_after_absence(Now now);
  // --- conditional writes (conditional_writes.cpp) ---
  // One conditional write this node decides as the key's owner.
  struct Decision {
    uint64_t id = 0;       // internal request id of its read, then of its write
    std::string origin;    // the member that forwarded it; empty: a client of this node
    uint64_t request = 0;  // the origin's id (CondWrite::id), or the client's request id
    ClientOp op = ClientOp::kPut;
    WriteCondition condition;
    std::string value;
    ContentType content;
    std::optional<Duration> ttl;
    MonoTime deadline;
    bool writing = false;  // the read is done: its write is in flight
  };
  struct Forwarded {
    uint64_t request;
    ClientOp op;
    std::string key;
    std::string owner;
    MonoTime deadline;
  };
  // The owner of `key` by this node's view (this node's own name, or an active member's).
  std::string_view owner_of(std::string_view key) const;
  // Whether this node may decide `key` now (it is the owner, and past the hand-off waits);
  // when it is the owner but must wait, `*wait_until` says until when.
  bool may_decide(MonoTime now, std::string_view key, MonoTime* wait_until) const;
  // Queues a decision for its key, starting it if it is the first.
  void enqueue_decision(Now now, std::string key, Decision d);
  // Starts the decision at the head of `key`'s queue (its cluster read), if it may.
  void start_decision(Now now, const std::string& key);
  // Ends the decision at the head of `key`'s queue with `r` and starts the next.
  void finish_decision(Now now, const std::string& key, Reply r);
  // Answers a decision's client or origin.
  void answer_decision(const Decision& d, Reply r);
  void on_cond_write(Now now, const Address& from, wire::CondWrite&& m);
  void on_cond_result(MonoTime now, const Address& from, const wire::CondResult& m);
  // Replies the kernel gave itself (a decision's read or write) are handled here, after
  // the input that produced them: the read's conclusion must not run inside the read.
  void run_internal_replies(Now now);
  void conditional_timer(Now now);
  MonoTime conditional_deadline() const;
  void conditional_member_change(Now now, const MemberChange& change);
  // Every decision in flight ends "unavailable" (the store lost what it did).
  void abandon_decisions();

  // --- listing (listing.cpp) ---
  struct ListBest {
    RecordKind kind = RecordKind::kInvalidated;
    Version version;
    uint64_t size = 0;
    uint64_t expires_us = 0;
    std::string value;  // listings with values only
    ContentType content;
  };
  struct Listing {
    uint64_t request = 0;
    std::string prefix;
    std::string after;
    size_t limit = 0;
    bool values = false;  // send each key's value and content type too
    MonoTime deadline;
    std::vector<std::string> waiting;  // members asked that have not answered
    std::map<std::string, ListBest, std::less<>> merged;
    // The lowest last key of the answers that stopped at the limit: beyond it, some
    // member's records are missing, so the page ends there.
    std::optional<std::string> bound;
    uint32_t rounds = 0;
  };
  // Rounds a listing may take when writes race its scans (see conclude_listing).
  static constexpr uint32_t kListRounds = 3;
  // Scans this node's store and asks every active member, under a new listing id.
  void start_listing_round(Listing&& listing);
  // This node's records for a listing (at most `limit`), in key order, with their values
  // if `values`; `more`: it stopped at the limit (or at wire::kListValueBytes of values).
  Status scan_for_listing(std::string_view prefix, std::string_view after, size_t limit,
                          bool values, std::vector<wire::ListedRecord>& out, bool& more);
  // Folds one member's answer (or this node's) into `l`.
  static void merge_listing(Listing& l, std::vector<wire::ListedRecord>&& records, bool more);
  // The question listing `l` asks each member under `id`.
  wire::ListKeys listing_question(uint64_t id, const Listing& l) const;
  void on_list_keys(const Address& from, const wire::ListKeys& m);
  void on_list_keys_reply(Now now, const Address& from, wire::ListKeysReply&& m);
  // Answers the listing (complete: every member asked answered).
  void conclude_listing(uint64_t id, bool complete);
  void listing_timer(Now now);
  // Member changes, for listings in flight: one gone is not waited for, one that appears
  // is asked too; settle_listings ends those with nobody left to wait for.
  void listing_member_change(const MemberChange& change);
  void settle_listings();

  // The store's erase, with the bound's accounting.
  Status store_erase(std::string_view key);

  // Every record write of this layer: the store's put, and when values are bounded
  // (KvConfig::max_data_bytes) the accounting of what it replaced, then evict_copies.
  Status store_put(std::string_view key, const Record& record);
  // Replaces the least recently used copies by markers of their versions (so no older
  // copy can win a later read) until the values fit the bound again. Copies of a writer
  // that is not an active member are kept: they may be the last copy.
  void evict_copies();
  bool writer_active(uint64_t writer) const;
  // Counts the values the store holds, own and copies, from scratch (at open, and when a
  // batch it had counted was lost).
  Status count_values();
  // Stores `record` over whatever this node holds of `key`. If the store refuses it, the
  // copy left there is no longer served as current (bump_or_owe): false.
  bool supersede(MonoTime now, std::string_view key, const Record& record);
  // What this node holds of `key`: the store's record, unless a newer marker the store
  // refused is held in memory (unstored_); a value whose TTL has run out (by the expiry
  // clock) as a tombstone of its version. `*expired` (if given) tells whether it was that.
  Result<bool> load(std::string_view key, Record& out, bool* expired = nullptr);
  // Hands the markers held in memory to the store, while it takes them; called whenever
  // an epoch bump is stored (a store refusing records refuses the bump too).
  void store_unstored();
  // Completes `q` if every member asked has answered (or `timed_out`: every get waiting
  // on it has reached its timeout); true if it ended.
  bool maybe_complete(Now now, Query& q, bool timed_out);
  // Answers `waiters` with the best `q` has found (caching it); `complete`: every member
  // asked has answered.
  void conclude(MonoTime now, Query& q, bool complete, const std::vector<Waiter>& waiters);
  static MonoTime earliest_deadline(const Query& q);
  // Reads this node's own record of the key (q.local_version) and folds it into the
  // read's best candidate. Called before every conclude().
  void merge_local(Query& q);

  void flush_invalidations(MonoTime now);
  void send_entries(const Address& to, uint64_t from_seq);
  void send(const Address& to, Channel channel, const wire::Message& m);
  void reply(Reply r);
  void reply_error(uint64_t request, ClientOp op, Error why);
  Duration default_timeout() const;
  const Member* active_member(std::string_view name) const;

  const KvConfig config_;
  const MembershipConfig membership_config_;
  const Membership& membership_;
  Store& store_;
  Outbox& out_;
  NodeStats& stats_;
  Prng rng_;
  HybridClock clock_;
  uint64_t clock_ceiling_;
  // The expiry clock (see expiry_clock_us); starts at the persisted clock ceiling, so a
  // value expired before a restart stays so even if the wall clock stepped back (up to
  // the last lease; a value may then expire up to a lease, 200 ms, early).
  uint64_t wall_floor_us_;
  MonoTime last_input_{};  // the monotonic time of the latest input (see next_deadline)
  DataBound bound_;
  ChangeFeed feed_;
  bool evicting_ = false;
  // After a restart, writes wait until the wall clock passes the ceiling the last run
  // persisted (at most 200 ms), so their versions reflect real time.
  uint64_t hold_writes_until_us_;
  MonoTime held_until_ = kNever;
  std::vector<HeldWrite> held_writes_;
  std::vector<HeldRead> held_reads_;
  std::vector<uint64_t> unsettled_reads_;  // reads a member change may have completed
  // Node ids of members known to be gone (dead, left, forgotten) or waited for in vain:
  // a read does not wait for them to appear (bounded: forgotten wholesale when full).
  std::unordered_set<uint64_t> gone_writers_;
  // How many gone members' ids it remembers (forgets them all past this).
  static constexpr size_t kMaxGoneWriters = 4096;
  // Members this log is resetting (they missed entries it no longer holds), with the log's
  // head when our copies were last revalidated for them: a reset member never compares the
  // entries it skips with what it holds, so it cannot tell us that one of our writes lost
  // to a newer version it holds (a Newer). Until it acknowledges the reset, every reset
  // that covers writes beyond that head revalidates our copies again.
  std::unordered_map<std::string, uint64_t> resetting_;
  // Markers of versions this node learnt of or answered, which the store refused (a full
  // disk): reads see them, and they are stored once the store takes writes again.
  std::map<std::string, Version, std::less<>> unstored_;
  uint64_t epoch_;
  bool epoch_owed_ = false;
  MonoTime epoch_retry_at_ = kNever;
  InvalidationLog log_;
  MonoTime flush_at_ = kNever;
  MonoTime resend_at_ = kNever;
  std::unordered_map<std::string, OriginState> origins_;
  std::map<uint64_t, Query> queries_;                       // by query id
  std::unordered_map<std::string, uint64_t> query_of_key_;  // key -> query id
  uint64_t next_query_id_;

  std::optional<CollectRound> collect_;
  std::string collect_cursor_;  // the next scan starts at this key
  MonoTime collect_at_ = MonoTime{};
  // The expiry clock when another member last probed this node (see check_contact);
  // persisted (MetaKey::kLastContact) every horizon/16 at most, and read at open, so a
  // restart counts the time the node was down.
  uint64_t last_probed_us_ = 0;
  uint64_t last_contact_saved_us_ = 0;
  uint64_t probes_seen_ = 0;
  bool had_peer_ = false;  // a member has probed it (and not every member left since)
  bool absent_ = false;    // away too long: drops its old records at the next contact
  // No collection before this expiry-clock time (persisted, MetaKey::kCollectPausedUntil):
  // a failed member was forgotten less than a horizon ago, and may be back among others
  // before this node hears of it (see collection_member_change).
  uint64_t collect_paused_until_us_ = 0;
  uint64_t absence_drops_ = 0;
  uint64_t last_absence_cutoff_us_ = 0;

  // Conditional writes: decisions by key (the front one is in progress), which key each
  // internal request belongs to, writes forwarded to owners (by CondWrite id), and the
  // kernel's own replies waiting for run_internal_replies.
  std::map<std::string, std::vector<Decision>, std::less<>> decisions_;
  size_t decisions_pending_ = 0;
  std::unordered_map<uint64_t, std::string> internal_key_;
  std::map<uint64_t, Forwarded> forwarded_;
  std::vector<Reply> internal_replies_;
  uint64_t next_internal_ = kInternalRequest;
  uint64_t next_forward_id_;
  MonoTime joined_at_ = kNever;
  // Members that left this node's active set less than cas_handoff ago, and when.
  std::vector<std::pair<std::string, MonoTime>> recently_gone_;
  MonoTime handoff_wake_ = kNever;  // a waiting decision may start then

  std::map<uint64_t, Listing> listings_;  // by listing id (ListKeys::id)
  uint64_t next_listing_id_;
};

}  // namespace ckv
