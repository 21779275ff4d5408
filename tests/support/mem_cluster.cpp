#include "tests/support/mem_cluster.h"

namespace ckv {

using namespace std::chrono_literals;

MemCluster::MemCluster(size_t size, uint64_t seed_base, const NodeConfig& config)
    : events(size), skew_us(size, 0) {
  for (size_t i = 0; i < size; ++i) {
    stores.push_back(std::make_unique<MemStore>(true));
    auto n =
        Node::create(config, "n" + std::to_string(i), addr(i), seed_base + i, now(i), *stores[i]);
    if (!n.ok()) {
      error_ = n.error().detail;
      return;
    }
    nodes.push_back(std::move(*n));
  }
  nodes[0]->join(now(0), {});
  for (size_t i = 1; i < size; ++i) {
    nodes[i]->join(now(i), std::vector<Address>{addr(0)});
    collect(i);
  }
  pump();
  for (int ms = 0; ms < 60'000 && !converged(); ++ms)
    step(1ms);
  if (!converged()) {
    error_ = "the cluster did not converge";
    return;
  }
  run_for(3s);
}

Now MemCluster::now(size_t i) const {
  return Now{t_, WallTime(Duration(1'700'000'000'000'000 + micros(t_) + skew_us[i]))};
}

void MemCluster::send(size_t from, Send& s) {
  const size_t to = s.to.ip - addr(0).ip;
  if (to < nodes.size()) in_flight.push_back(InFlight{from, to, s.channel, std::move(s.bytes)});
}

void MemCluster::collect(size_t i) {
  if (!nodes[i]) return;  // down
  Outbox& out = nodes[i]->outbox();
  for (Send& s : out.sends)
    send(i, s);
  for (Reply& r : out.replies)
    replies.push_back(std::move(r));
  for (ChangeEvent& e : out.events)
    events[i].push_back(std::move(e));
  out.clear();
}

void MemCluster::collect() {
  for (size_t i = 0; i < nodes.size(); ++i)
    collect(i);
}

void MemCluster::pump(const Hold& hold) {
  collect();
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    if (hold && hold(*it)) {
      ++it;
      continue;
    }
    InFlight m = std::move(*it);
    in_flight.erase(it);
    if (nodes[m.to]) {
      nodes[m.to]->on_message(now(m.to), addr(m.from), m.channel, m.bytes);
      collect(m.to);
    }
    it = in_flight.begin();  // what it sent may come before what was held
  }
}

void MemCluster::step(Duration d, const Hold& hold) {
  t_ += d;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i] && nodes[i]->next_deadline() <= t_) nodes[i]->on_timer(now(i));
  }
  pump(hold);
}

void MemCluster::advance(Duration d, const Hold& hold, const std::function<bool()>& until) {
  const MonoTime end = t_ + d;
  while (t_ < end && !(until && until()))
    step(1ms, hold);
}

void MemCluster::run_for(Duration d, const Hold& hold) {
  advance(d, hold);
  replies.clear();
}

const Reply* MemCluster::reply_to(uint64_t request) const {
  for (const Reply& r : replies) {
    if (r.request == request) return &r;
  }
  return nullptr;
}

bool MemCluster::converged() const {
  for (const auto& n : nodes) {
    if (n->members().active_count() != nodes.size()) return false;
  }
  return true;
}

}  // namespace ckv
