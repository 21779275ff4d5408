// CasChecker: judges conditional writes (compare-and-set) against every write of their
// keys, once the run is over.
//
// The workload sends only conditional writes to its compare-and-set keys (KvWorkloadConfig::
// cas_keys), so each write of such a key was decided by an owner against what it read.
// A conditional write a client was told succeeded, at version S, must have replaced
// exactly the state its condition named: the highest-versioned write of the key below S
// (any write a checker knows of, acknowledged or seen in a read; writes a crash or a long
// absence lost before S began are skipped) must be the version If-Match named, a value
// for If-Match: *, and no value for If-None-Match: *. Anything else is counted:
//  - a double success: that write is itself a success from the same precondition (two
//    clients were told they won from one state);
//  - a stale precondition: anything else (the condition no longer held when it was decided).
// Fault-free runs with stable membership must count none; under faults the counts are the
// rates the README reports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernel/kv/client.h"
#include "sim/kv_checker.h"

namespace ckv::sim {

struct CasSuccess {
  uint32_t key;
  Version version;  // the write's
  WriteCondition condition;
  MonoTime started;
  uint32_t node;  // the node the client asked
};

struct CasCounts {
  uint64_t attempts = 0;  // conditional writes issued
  uint64_t succeeded = 0;
  uint64_t precondition_failed = 0;
  uint64_t unavailable = 0;
  uint64_t double_successes = 0;
  uint64_t stale_preconditions = 0;
  std::string first_violation;  // described, for reports
};

class CasChecker {
 public:
  void on_success(const CasSuccess& s) { successes_.push_back(s); }
  // Judges every success against `writes` (all writes of the run, by version).
  void finish(const std::map<Version, WriteRecord>& writes);
  CasCounts& counts() { return counts_; }
  const CasCounts& counts() const { return counts_; }

 private:
  std::vector<CasSuccess> successes_;
  CasCounts counts_;
};

}  // namespace ckv::sim
