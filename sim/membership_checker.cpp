#include "sim/membership_checker.h"

namespace ckv::sim {

using wire::to_string;

MembershipChecker::MembershipChecker(const std::vector<SimNode>& nodes, bool perfect_network)
    : nodes_(nodes), perfect_network_(perfect_network) {
  for (uint32_t i = 0; i < nodes.size(); ++i)
    index_.emplace(nodes[i].name, i);
}

std::optional<uint32_t> MembershipChecker::index_of(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void MembershipChecker::violate(MonoTime at, std::string property, std::string detail) {
  violations_.push_back(Violation{at, std::move(property), std::move(detail)});
}

void MembershipChecker::on_change(MonoTime now, uint32_t observer, const MemberChange& c) {
  const std::string who = nodes_[observer].name;
  const auto subject = index_of(c.name);
  if (!subject || nodes_[*subject].addr != c.addr) {
    violate(now, "no phantom members",
            who + " lists member " + c.name + " at " + c.addr.to_string() +
                ", which is no node of the cluster");
    return;
  }
  const SimNode& s = nodes_[*subject];
  if (!c.is_new && !c.reaped) {
    if (c.to_incarnation < c.from_incarnation) {
      violate(now, "incarnations never go backwards",
              who + " moved " + c.name + " from incarnation " + std::to_string(c.from_incarnation) +
                  " to " + std::to_string(c.to_incarnation));
    }
    const bool was_gone = c.from_state == MemberState::kDead || c.from_state == MemberState::kLeft;
    const bool now_active =
        c.to_state == MemberState::kAlive || c.to_state == MemberState::kSuspect;
    if (was_gone && now_active && c.to_incarnation <= c.from_incarnation) {
      violate(now, "no resurrection without a newer incarnation",
              who + " brought " + c.name + " back from " + to_string(c.from_state) +
                  " at incarnation " + std::to_string(c.to_incarnation));
    }
  }
  if (*subject == observer && c.to_state != MemberState::kAlive &&
      nodes_[observer].status == NodeStatus::kUp) {
    violate(now, "a running node sees itself alive", who + " sees itself " + to_string(c.to_state));
  }
  if (c.to_state == MemberState::kDead && c.from_state != MemberState::kDead && !c.reaped &&
      s.running() && s.status == NodeStatus::kUp) {
    if (s.ever_paused) {
      false_failures_of_paused_++;
    } else {
      false_failures_++;
    }
    if (perfect_network_ && !s.ever_crashed && !s.ever_paused) {
      violate(now, "accuracy: a reachable live node is never declared dead",
              who + " declared " + c.name + " dead (incarnation " +
                  std::to_string(c.to_incarnation) + ") on a network that lost nothing");
    }
  }
}

void MembershipChecker::on_force_leave(MonoTime now, uint32_t at, uint32_t subject,
                                       std::optional<MemberState> before, const Status& result,
                                       std::optional<MemberState> after) {
  const std::string what = nodes_[at].name + " forcing " + nodes_[subject].name + " out";
  const bool held_dead = before == MemberState::kDead || before == MemberState::kLeft;
  if (result.ok() != held_dead) {
    violate(now, "force-leave takes exactly the failed",
            what + (result.ok() ? " succeeded though it held it " +
                                      std::string(before ? to_string(*before) : "unknown")
                                : " was refused though it held it dead: " + result.error().detail));
    return;
  }
  if (!result.ok()) return;
  if (after != MemberState::kLeft) {
    violate(now, "force-leave takes exactly the failed",
            what + " left it " + (after ? to_string(*after) : "unknown"));
  }
  if (forced_out_.size() < nodes_.size()) forced_out_.resize(nodes_.size(), false);
  forced_out_[subject] = true;
}

bool MembershipChecker::check_views(MonoTime now) {
  std::string live_problem;
  std::string departed_problem;
  for (uint32_t a = 0; a < nodes_.size(); ++a) {
    const SimNode& observer = nodes_[a];
    if (observer.status != NodeStatus::kUp) continue;
    const MemberTable& view = observer.kernel->members();
    for (uint32_t b = 0; b < nodes_.size(); ++b) {
      const SimNode& subject = nodes_[b];
      const Member* m = view.find(subject.name);
      if (subject.status == NodeStatus::kUp) {
        if (live_problem.empty() && (m == nullptr || !m->alive())) {
          live_problem = observer.name + " sees running " + subject.name + " as " +
                         (m ? to_string(m->state) : "unknown");
        } else if (live_problem.empty() && m->tags != subject.kernel->membership().tags()) {
          // Tags converge like states: the newest a node gave itself, everywhere.
          live_problem = observer.name + " holds " + std::to_string(m->tags.size()) + " tags of " +
                         subject.name + " at incarnation " + std::to_string(m->incarnation) +
                         ", not the " + std::to_string(subject.kernel->membership().tags().size()) +
                         " it gives itself";
        }
      } else if (subject.status != NodeStatus::kNotStarted && m != nullptr && m->active()) {
        if (departed_problem.empty()) {
          departed_problem =
              observer.name + " sees departed " + subject.name + " as " + to_string(m->state);
        }
      }
    }
  }
  // A node forced out (and still down) is left, not dead, wherever it is known.
  for (uint32_t b = 0; b < forced_out_.size() && departed_problem.empty(); ++b) {
    if (!forced_out_[b] || nodes_[b].status != NodeStatus::kDown) continue;
    for (const SimNode& observer : nodes_) {
      if (observer.status != NodeStatus::kUp) continue;
      const Member* m = observer.kernel->members().find(nodes_[b].name);
      if (m != nullptr && m->state != MemberState::kLeft) {
        departed_problem =
            observer.name + " sees " + nodes_[b].name + ", forced out, as " + to_string(m->state);
        break;
      }
    }
  }
  // Everyone agrees on how each departed node went (left or failed).
  for (uint32_t b = 0; b < nodes_.size() && departed_problem.empty(); ++b) {
    if (nodes_[b].status != NodeStatus::kLeft) continue;
    std::optional<MemberState> seen;
    for (const SimNode& observer : nodes_) {
      if (observer.status != NodeStatus::kUp) continue;
      const Member* m = observer.kernel->members().find(nodes_[b].name);
      if (m == nullptr) continue;
      if (seen && *seen != m->state) {
        departed_problem = "nodes disagree whether " + nodes_[b].name + " left or failed";
        break;
      }
      seen = m->state;
    }
  }
  auto track = [&](std::optional<MonoTime>& since, const std::string& problem) {
    if (!problem.empty()) {
      since.reset();
    } else if (!since) {
      since = now;
    }
  };
  track(live_ok_since_, live_problem);
  track(departed_ok_since_, departed_problem);
  live_problem_ = live_problem;
  departed_problem_ = departed_problem;
  return live_problem.empty() && departed_problem.empty();
}

void MembershipChecker::enforce_bounds(MonoTime now, Duration elapsed,
                                       const LivenessBounds& bounds) {
  auto seconds = [](Duration d) { return std::to_string(d.count() / 1000000) + "s"; };
  if (!live_ok_since_ && elapsed > bounds.convergence && !live_reported_) {
    violate(now, "convergence within " + seconds(bounds.convergence) + " of faults stopping",
            live_problem_);
    live_reported_ = true;
  }
  if (!departed_ok_since_ && elapsed > bounds.detection && !departed_reported_) {
    violate(now, "detection within " + seconds(bounds.detection) + " of faults stopping",
            departed_problem_);
    departed_reported_ = true;
  }
}

}  // namespace ckv::sim
