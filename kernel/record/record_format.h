// The flight recorder's records: every input a node's kernel took, in the order it took
// them, so that a fresh kernel fed the same records reproduces the node bit for bit.
//
// A node's kernel (Node and its CommitGate, run by a NodeHost) depends on nothing but
// these: how it was created (config, name, address, seed, start time), each input with the
// `Now` it carried, what its store answered, and when the driver asked the gate to take
// and commit output. Outputs are not inputs: a recording keeps a summary of each (a hash
// and a label) so a replay can check it produced the same, and say where it did not.
//
// Encoding: a record is its type (one byte), the payload's length (4 bytes, little-endian)
// and the payload; fields are the wire codec's varints, length-prefixed strings and addresses.
// Everything that decodes re-encodes to the same bytes. The files that hold records
// (segments, blocks, checksums) are described in runtime/record/flight_recorder.h.
//
// Format version 1. A later version may add record types and append fields to a
// payload; a reader skips fields after the ones it knows and refuses record types it
// does not know (it cannot replay what it does not understand).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernel/commit_gate.h"
#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/kv/client.h"
#include "kernel/kv/store.h"
#include "kernel/node.h"
#include "kernel/outbox.h"

namespace ckv::record {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kLengthBytes = 4;  // a record's payload length, after its type byte

enum class Type : uint8_t {
  kStart = 1,  // how the node was created: StartInfo
  // Node inputs, each with the Now it carried.
  kJoin = 2,
  kLeave = 3,
  kSetTags = 4,
  kForceLeave = 5,
  kMessage = 6,
  kTimer = 7,
  kCommitFailed = 8,
  kGet = 9,
  kPut = 10,
  kErase = 11,
  kWatch = 12,
  kUnwatch = 13,
  kWriteIf = 14,
  kList = 15,
  kLocalHits = 16,
  kStoreRefuses = 17,  // the gate was told the store refuses writes (at start)
  // Gate operations the driver performed; each is followed by a kReleased.
  kTake = 18,
  kCommit = 19,
  kReleased = 20,  // what the gate released: full Effects (in memory) or summaries (files)
  // What the store answered, in the order the kernel asked.
  kStoreGet = 21,
  kStoreMeta = 22,
  kStoreScanBegin = 23,
  kStoreScanItem = 24,
  kStoreScanEnd = 25,
  kStoreWrite = 26,  // a write the kernel made: in full (in memory) or its hash (files)
  kDigest = 27,      // every kDigestEvery inputs: the hash of every output summary so far
  kGap = 28,         // the recorder lost records here (it fell behind, or the ring dropped them)
};
inline constexpr uint8_t kFirstType = 1;
inline constexpr uint8_t kLastType = 28;
const char* to_string(Type type);
// Whether a record of this type is an input to the node (it advances the input count);
// the gate's operations (take, commit) are not.
bool is_input(Type type);
bool is_store_answer(Type type);

// How a recording keeps values: whole, or each replaced by bytes of the same length
// derived from a keyed hash of it (value_mask.h), so a recording holds no value.
enum class ValueMode : uint8_t { kWhole = 0, kMasked = 1 };

struct StartInfo {
  uint32_t format = kFormatVersion;
  std::string build;  // the build that recorded (`cluster-kv --version`): replay needs the same
  ValueMode values = ValueMode::kWhole;
  std::string name;
  Address address;
  uint64_t seed = 0;
  Now start{};
  NodeConfig config;
};

// One output, as a recording keeps it: what kind, a short label (where it went, which
// request), its size in bytes and the hash of its full encoding.
struct OutputSummary {
  enum class Kind : uint8_t { kChange = 0, kSend = 1, kReply = 2, kEvent = 3, kStoreWrite = 4 };
  Kind kind = Kind::kSend;
  std::string label;
  uint64_t size = 0;
  uint64_t hash = 0;
  friend bool operator==(const OutputSummary&, const OutputSummary&) = default;
};
const char* to_string(OutputSummary::Kind kind);

enum class StoreWriteKind : uint8_t { kPut = 0, kErase = 1, kBatch = 2, kMeta = 3 };

// One decoded record. Which fields mean something depends on `type` (see each encoder).
struct Event {
  Type type = Type::kTimer;
  Now now{};
  uint64_t request = 0;
  std::string key;  // also a list's or watch's prefix, a force-leave's member, meta key
  std::string value;
  std::string after;
  uint64_t number = 0;  // a list's limit, a meta value, a write's hash, a digest's inputs
  bool flag = false;    // write_if: erase; list: values; store get/scan item: found
  std::optional<Duration> duration;  // get/list: timeout; put/write_if: ttl
  ContentType content;
  WriteCondition condition;
  Address from;
  Channel channel = Channel::kDatagram;
  std::vector<uint8_t> bytes;
  std::vector<Address> seeds;
  wire::Tags tags;
  std::vector<std::string> keys;
  StartInfo start;
  std::optional<Error> error;  // store answers: the store's failure
  Record record;               // store get, scan item
  StoreWriteKind write_kind = StoreWriteKind::kPut;
  std::vector<std::pair<std::string, std::optional<Record>>> writes;  // in memory only
  Effects released;                                                   // kReleased in memory
  std::vector<OutputSummary> outputs;                                 // kReleased in files
  bool summarized = false;  // kReleased / kStoreWrite: summaries, not outputs
  uint64_t digest = 0;
};

// Appends records to a byte buffer. One per recorded node, used on the node's strand.
class Writer {
 public:
  std::vector<uint8_t>& buffer() { return buf_; }
  size_t size() const { return buf_.size(); }
  // Hands over what was written (the buffer is left empty).
  std::vector<uint8_t> take() { return std::exchange(buf_, {}); }
  // Called when a long run of records (a scan of the whole store) has made the buffer
  // larger than `bytes`, so its owner can pass it on before it grows further.
  void set_spill(size_t bytes, std::function<void()> spill) {
    spill_bytes_ = bytes;
    spill_ = std::move(spill);
  }
  void maybe_spill() {
    if (spill_ && buf_.size() > spill_bytes_) spill_();
  }

  void start(const StartInfo& info);
  void join(Now now, std::span<const Address> seeds);
  void leave(Now now);
  void set_tags(Now now, const wire::Tags& tags);
  void force_leave(Now now, std::string_view member);
  void message(Now now, const Address& from, Channel channel, std::span<const uint8_t> bytes);
  void timer(Now now);
  void commit_failed(Now now);
  void get(Now now, uint64_t request, std::string_view key, std::optional<Duration> timeout);
  void put(Now now, uint64_t request, std::string_view key, std::string_view value,
           std::optional<Duration> ttl, const ContentType& content);
  void erase(Now now, uint64_t request, std::string_view key);
  void watch(std::string_view prefix, bool on);
  void write_if(Now now, uint64_t request, std::string_view key, bool erase, std::string_view value,
                std::optional<Duration> ttl, const WriteCondition& condition,
                const ContentType& content);
  void list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
            size_t limit, std::optional<Duration> timeout, bool values);
  void local_hits(std::span<const std::string> keys);
  void store_refuses(const Error& why);
  void gate_op(Type take_or_commit);
  void released(const Effects& effects);
  void released(std::span<const OutputSummary> outputs);
  void store_get(std::string_view key, const Result<bool>& found, const Record& record);
  void store_meta(MetaKey key, const Result<uint64_t>& value);
  void scan_begin(std::string_view from);
  void scan_item(std::string_view key, const Record& record);
  void scan_end(const Status& status);
  // A write in full (`record` null erases; meta writes carry their value in `meta`).
  void store_write(StoreWriteKind kind, std::span<const RecordWrite> writes, MetaKey meta_key,
                   uint64_t meta, const Status& status);
  // A write as its hash.
  void store_write_hash(StoreWriteKind kind, uint64_t hash, const Status& status);
  void digest(uint64_t inputs, uint64_t digest);
  void gap(uint64_t lost_bytes);
  // Appends an already encoded record as it is.
  void raw(std::span<const uint8_t> record);

 private:
  // Starts a record of `type`; finish() fills in its length.
  size_t begin(Type type);
  void finish(size_t at);
  std::vector<uint8_t> buf_;
  size_t spill_bytes_ = 0;
  std::function<void()> spill_;
};

// A store write as recorded in full and as hashed (output_summary.h's write_hash): its
// kind, then its records (a null record erases its key), or the meta key and value.
void encode_store_write(std::vector<uint8_t>& out, StoreWriteKind kind,
                        std::span<const RecordWrite> writes, MetaKey meta_key, uint64_t meta);

// Reads the records in `bytes` one at a time.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool at_end() const { return pos_ >= bytes_.size(); }
  // The next record, whole (for copying it on), and its type.
  Result<std::span<const uint8_t>> next_raw();
  // Decodes one record (as next_raw returned it).
  static Result<Event> decode(std::span<const uint8_t> record);

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// A whole record's payload (a record as Reader::next_raw returns it).
inline std::span<const uint8_t> payload_of(std::span<const uint8_t> record) {
  return record.subspan(1 + kLengthBytes);
}

// The hash recordings use: 64 bits, fast on long inputs (word at a time), stable across
// platforms and runs. Not for security.
uint64_t hash_bytes(std::span<const uint8_t> bytes, uint64_t seed = 0);
uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0);

}  // namespace ckv::record
