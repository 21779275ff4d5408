// StagedStore: the Store a node's kernel writes to, in production and in the simulator.
// It holds the kernel's record writes in memory until the driver commits them to the
// store beneath (RocksDB, or the simulator's MemStore) in one atomic batch: group commit,
// one WAL write (and with --sync one fsync) per burst of requests instead of one per write.
//
// What it promises:
//  - `get` sees every `put`/`erase` made before it through this StagedStore, committed or
//    not; meta goes straight to the store beneath (`put_meta` is durable when it returns);
//  - `commit` applies every staged write at once (all or none after a crash) and empties
//    the stage, also when it fails (then none of them reached the database);
//  - staged writes are invisible to anyone reading the store beneath directly (the HTTP
//    threads' local hits) until committed;
//  - after a commit fails, the store beneath is taken to be failing (a full disk): writes
//    are no longer staged but go straight through to it, each failing as it does, so the
//    kernel sees the failure as the value it returns; the first one the store accepts
//    ends that, and writes are staged again.
// So every effect of the inputs that staged writes -- replies to clients, messages to
// peers that may carry or announce them -- waits until `commit` succeeds; CommitGate
// (kernel/commit_gate.h) is the policy that holds them.
// Not thread-safe: used by the one thread (or strand) that runs the node.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernel/kv/store.h"

namespace ckv {

class StagedStore final : public Store {
 public:
  // What a staged write costs in memory beyond its key and value (the map's node, the
  // Record), about.
  static constexpr size_t kEntryOverhead = 128;

  explicit StagedStore(Store& durable) : durable_(durable) {}

  Result<bool> get(std::string_view key, Record& out) override;
  Status put(std::string_view key, const Record& record) override;
  Status erase(std::string_view key) override;
  // Stages the writes like so many puts and erases (the stage is applied atomically anyway).
  Status write_batch(std::span<const RecordWrite> writes) override;
  // Records from `from` on in key order, staged ones where they belong; commits nothing.
  using Store::for_each;
  Status for_each_from(
      std::string_view from,
      const std::function<bool(std::string_view key, const Record& record)>& visit) override;
  Result<uint64_t> get_meta(MetaKey key) override { return durable_.get_meta(key); }
  Status put_meta(MetaKey key, uint64_t value) override { return durable_.put_meta(key, value); }

  // Whether a write of `key` is staged; if so `*out` is its record, or null for an erase.
  // For observers (the simulator's checkers): the node itself reads with `get`.
  bool staged(std::string_view key, const Record** out) const;

  bool empty() const { return staged_.empty(); }
  size_t staged_writes() const { return staged_.size(); }
  // Memory the staged writes hold (estimated): the driver commits early past a bound.
  size_t staged_bytes() const { return bytes_; }
  Status commit();
  // Set from a failed commit until a write goes through again: the store's last error.
  const std::optional<Error>& failing() const { return failing_; }
  // The driver knows the store beneath refuses writes (it was opened on a full disk):
  // write through from the start, so no first batch fails with replies riding on it.
  void set_failing(Error why) {
    if (staged_.empty()) failing_ = std::move(why);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // One write straight to the store beneath, while it is failing.
  Status write_through(const RecordWrite& write);
  static size_t cost(std::string_view key, const std::optional<Record>& record) {
    return kEntryOverhead + key.size() + (record ? record->value.size() : 0);
  }

  Store& durable_;
  // The latest write of each key since the last commit; nullopt: erased.
  std::unordered_map<std::string, std::optional<Record>, Hash, std::equal_to<>> staged_;
  size_t bytes_ = 0;
  std::optional<Error> failing_;
};

}  // namespace ckv
