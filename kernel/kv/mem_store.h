// MemStore: an in-memory Store for the simulator and tests that models crashes.
//
// In durable mode every put and erase is durable as soon as it returns (like the
// production store with --sync). Otherwise writes stay volatile until `flush()` (the
// simulator calls it periodically, as an OS would write back its cache); `crash()` then
// throws away every volatile write, as a machine losing power would. Meta is always
// durable. `fail_writes` makes every write fail, and `fail_meta_writes` meta writes only,
// until undone (a full or broken disk): a failed write changes nothing.
#pragma once

#include <map>
#include <set>
#include <string>

#include "kernel/kv/store.h"

namespace ckv {

class MemStore final : public Store {
 public:
  explicit MemStore(bool durable_writes) : durable_writes_(durable_writes) {}

  Result<bool> get(std::string_view key, Record& out) override;
  Status put(std::string_view key, const Record& record) override;
  Status erase(std::string_view key) override;
  Status write_batch(std::span<const RecordWrite> writes) override;
  using Store::for_each;
  Status for_each_from(
      std::string_view from,
      const std::function<bool(std::string_view key, const Record& record)>& visit) override;
  Result<uint64_t> get_meta(MetaKey key) override;
  Status put_meta(MetaKey key, uint64_t value) override;

  // Makes every write so far durable.
  void flush();
  // Loses every write that is not durable; the store then reads as it was last flushed.
  void crash();
  // While set, put_meta fails with kIoError and changes nothing.
  void fail_meta_writes(bool fail) { fail_meta_writes_ = fail; }
  bool failing_meta_writes() const { return fail_meta_writes_; }
  // While set, put, erase, write_batch and put_meta fail with kIoError and change nothing; reads
  // work.
  void fail_writes(bool fail) { fail_writes_ = fail; }
  bool failing_writes() const { return fail_writes_; }

  bool durable_writes() const { return durable_writes_; }
  size_t size() const { return live_.size(); }
  size_t volatile_writes() const { return dirty_.size(); }
  // The live record of `key`, or null; for checkers.
  const Record* peek(std::string_view key) const;

 private:
  void mark_dirty(std::string_view key);

  bool durable_writes_;
  std::map<std::string, Record, std::less<>> live_;
  std::map<std::string, Record, std::less<>> durable_;
  std::set<std::string, std::less<>> dirty_;  // keys whose live record is not yet durable
  std::map<MetaKey, uint64_t> meta_;
  bool fail_meta_writes_ = false;
  bool fail_writes_ = false;
};

}  // namespace ckv
