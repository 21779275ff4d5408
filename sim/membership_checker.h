// MembershipChecker: the properties a simulated run must keep.
//
// Safety, on every member change any node reports, all run long:
//  - no phantom members: every member a node knows is a real node, at its real address;
//  - incarnations never go backwards, and a dead or left member only comes back alive with
//    a newer incarnation;
//  - a running node never sees itself as anything but alive (unless it is leaving);
//  - accuracy: on a run whose network never loses, delays beyond its base latency,
//    partitions or clogs, and with no paused node, no node that has never crashed is ever
//    declared dead.
//  - force-leave: an operator's force-leave is refused for a member held alive or suspect,
//    and marks one held dead left.
// Liveness, once faults stop (bounds from bounds.h):
//  - convergence: every running node sees exactly the running nodes as alive, each with
//    the tags it last gave itself (the simulator retags nodes through the chaos);
//  - detection: nodes that crashed for good or left are seen as dead or left by all;
//  - a node that left is seen the same way by everyone (left, or dead if nobody heard);
//    a node forced out (crashed for good) is seen left by everyone.
// It also counts false failure verdicts (a running node declared dead), split by whether
// the accused was ever paused: the measure Lifeguard is meant to improve.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/membership/member.h"
#include "sim/bounds.h"
#include "sim/sim_node.h"

namespace ckv::sim {

struct Violation {
  MonoTime at;
  std::string property;
  std::string detail;
};

class MembershipChecker {
 public:
  MembershipChecker(const std::vector<SimNode>& nodes, bool perfect_network);

  void on_change(MonoTime now, uint32_t observer, const MemberChange& change);
  // An operator at `at` forced `subject` out: refused exactly when `at` held it alive or
  // suspect (or not at all), and then left in `at`'s view; once forced, every running
  // node must come to see it left (the detection bound), not dead.
  void on_force_leave(MonoTime now, uint32_t at, uint32_t subject,
                      std::optional<MemberState> before, const Status& result,
                      std::optional<MemberState> after);

  // Evaluates every running node's view; returns true when both liveness predicates hold.
  bool check_views(MonoTime now);
  // Called when the quiet phase has lasted `elapsed`: flags a predicate that has not held
  // by its bound.
  void enforce_bounds(MonoTime now, Duration elapsed, const LivenessBounds& bounds);

  const std::vector<Violation>& violations() const { return violations_; }
  uint64_t false_failures() const { return false_failures_; }
  uint64_t false_failures_of_paused() const { return false_failures_of_paused_; }
  std::optional<MonoTime> live_converged_since() const { return live_ok_since_; }
  std::optional<MonoTime> departed_converged_since() const { return departed_ok_since_; }

 private:
  void violate(MonoTime at, std::string property, std::string detail);
  std::optional<uint32_t> index_of(const std::string& name) const;

  const std::vector<SimNode>& nodes_;
  const bool perfect_network_;
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<bool> forced_out_;  // by node: an operator forced it out
  std::vector<Violation> violations_;
  uint64_t false_failures_ = 0;
  uint64_t false_failures_of_paused_ = 0;
  std::optional<MonoTime> live_ok_since_;
  std::optional<MonoTime> departed_ok_since_;
  bool live_reported_ = false;  // each missed bound is reported once
  bool departed_reported_ = false;
  std::string live_problem_;  // first thing wrong at the last check, for reports
  std::string departed_problem_;
};

}  // namespace ckv::sim
