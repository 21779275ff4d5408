// Timeline: a picture of a run that a person reads faster than a trace. One lane per
// node over time: the state each node holds of every other member (alive, suspect, dead,
// left) as thin bars, faults (partitions, pauses, crashes) shaded, client operations as
// marks coloured by their outcome, a sample of the invalidation traffic as ticks, and any
// violation pinned where it happened, with the command that reproduces it.
//
// html() is one self-contained file: inline SVG and CSS, no script, nothing fetched. The
// simulator (`--timeline`), a replay and `cluster-kv check` all draw with it; it uses the
// standard library only, so any of them can link it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ckv {

class Timeline {
 public:
  enum class State : uint8_t { kAlive, kSuspect, kDead, kLeft };
  enum class Outcome : uint8_t { kOk, kNotFound, kTimeout, kError, kPreconditionFailed };
  // Invalidation traffic drawn at most this many times; beyond, every n-th is.
  static constexpr size_t kMaxTrafficMarks = 3000;
  // Successful operations drawn: past this many, every 2nd, 4th, ... is (failures always).
  static constexpr size_t kMaxOpMarks = 20000;

  Timeline(std::string title, std::vector<std::string> lanes);

  // Times are microseconds on the run's clock (virtual time, or the node's monotonic one).
  // `observer` holds `subject` (a member's name) in `state` from `at` on.
  void member(int64_t at, uint32_t observer, const std::string& subject, State state);
  // A fault on `lane` over [from, to): "partition side 1", "pause", "crash", ...
  void shade(int64_t from, int64_t to, uint32_t lane, const std::string& label);
  // A fault whose end is not known yet (a crash): ended by the first end_shade of its lane
  // whose `label_prefix` its label starts with, or drawn to the end.
  void begin_shade(int64_t from, uint32_t lane, const std::string& label);
  void end_shade(int64_t to, uint32_t lane, const std::string& label_prefix);
  void op(int64_t at, uint32_t lane, Outcome outcome, const std::string& label);
  void traffic(int64_t at, uint32_t lane, const std::string& label);
  // A violation: where and what, and the command line that reproduces the run.
  void pin(int64_t at, const std::string& text, const std::string& repro);
  // A line of context shown under the title (the seed, the fault profile, ...).
  void note(const std::string& text) { notes_.push_back(text); }

  std::string html() const;

 private:
  struct Interval {
    int64_t from;
    State state;
  };
  struct Shade {
    int64_t from, to;
    uint32_t lane;
    std::string label;
  };
  struct Mark {
    int64_t at;
    uint32_t lane;
    uint8_t kind;
    std::string label;
  };
  struct Pin {
    int64_t at;
    std::string text, repro;
  };
  void extend(int64_t at);

  std::string title_;
  std::vector<std::string> lanes_;
  std::vector<std::string> notes_;
  // lane -> subject -> the states it held, in time order
  std::vector<std::map<std::string, std::vector<Interval>>> states_;
  std::vector<Shade> shades_;
  std::vector<Mark> ops_, traffic_;
  uint64_t traffic_seen_ = 0;
  uint64_t ok_seen_ = 0;
  std::vector<Pin> pins_;
  int64_t first_ = INT64_MAX, last_ = INT64_MIN;
};

}  // namespace ckv
