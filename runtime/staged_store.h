// StagedStore: the Store the kernel uses in a real node. It holds the kernel's record
// writes in memory until the driver commits them to the RocksStore beneath in one atomic
// batch: group commit, one WAL write (and with --sync one fsync) per burst of requests
// instead of one per write.
//
// What it promises:
//  - `get` sees every `put`/`erase` made before it through this StagedStore, committed or
//    not; meta goes straight to the RocksStore (`put_meta` is synced when it returns);
//  - `commit` applies every staged write at once (all or none after a crash) and empties
//    the stage, also when it fails (then none of them reached the database);
//  - staged writes are invisible to anyone reading the RocksStore directly (the HTTP
//    threads' local hits) until committed.
// So the driver must hold back every effect of the inputs that staged writes -- replies
// to clients, messages to peers that may carry or announce them -- until `commit`
// succeeds: then no client or peer learns of a write before it is in RocksDB's log (a
// killed process loses none of them; a machine losing power only unsynced ones).
// Used on the kernel's strand only (not thread-safe).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernel/kv/store.h"
#include "runtime/rocks_store.h"

namespace ckv {

class StagedStore final : public Store {
 public:
  // What a staged write costs in memory beyond its key and value (the map's node, the
  // Record), about.
  static constexpr size_t kEntryOverhead = 128;

  explicit StagedStore(RocksStore& durable) : durable_(durable) {}

  Result<bool> get(std::string_view key, Record& out) override;
  Status put(std::string_view key, const Record& record) override;
  Status erase(std::string_view key) override;
  // Every record, staged ones last (not in key order); commits nothing.
  Status for_each(
      const std::function<bool(std::string_view key, const Record& record)>& visit) override;
  Result<uint64_t> get_meta(MetaKey key) override { return durable_.get_meta(key); }
  Status put_meta(MetaKey key, uint64_t value) override { return durable_.put_meta(key, value); }

  bool empty() const { return staged_.empty(); }
  size_t staged_writes() const { return staged_.size(); }
  // Memory the staged writes hold (estimated): the driver commits early past a bound.
  size_t staged_bytes() const { return bytes_; }
  Status commit();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static size_t cost(std::string_view key, const std::optional<Record>& record) {
    return kEntryOverhead + key.size() + (record ? record->value.size() : 0);
  }

  RocksStore& durable_;
  // The latest write of each key since the last commit; nullopt: erased.
  std::unordered_map<std::string, std::optional<Record>, Hash, std::equal_to<>> staged_;
  size_t bytes_ = 0;
};

}  // namespace ckv
