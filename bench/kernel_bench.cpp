// Kernel micro-benchmarks: how many datagrams one kernel handles per second, and what the
// wire codec and the broadcast queue cost. Release builds only give meaningful numbers:
//   build/release/bench/kernel_bench
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kernel/kv/data_bound.h"
#include "kernel/kv/mem_store.h"
#include "kernel/membership/broadcast_queue.h"
#include "kernel/node.h"
#include "kernel/wire/codec.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;

Address addr(uint32_t i) {
  return Address{0x0a000000u + i, 7946};
}

// A node "n0" that knows `members` - 1 others, all alive, with its gossip queue drained.
std::unique_ptr<Node> node_in_cluster(int members, MonoTime& t) {
  static MemStore store(true);
  auto node = std::move(*Node::create({}, "n0", addr(0), 1, Now{t, {}}, store));
  node->join(Now{t, {}}, {});
  for (int i = 1; i < members; ++i) {
    const wire::Message alive = wire::Alive{1, "n" + std::to_string(i), addr(i)};
    node->on_message(Now{t, {}}, addr(i), Channel::kDatagram, wire::encode_packet({&alive, 1}));
  }
  // Drain the news of all those joins (it would ride on every datagram otherwise) by having
  // it piggyback on acks; no timer runs, so nobody is probed and everyone stays alive.
  const wire::Message ping = wire::Ping{1, "n0"};
  const std::vector<uint8_t> bytes = wire::encode_packet({&ping, 1});
  while (node->membership().pending_broadcasts() > 0) {
    node->on_message(Now{t, {}}, addr(1), Channel::kDatagram, bytes);
    node->outbox().clear();
  }
  return node;
}

// A ping arrives; the node answers with an ack. One datagram in, one out.
void BM_HandlePing(benchmark::State& state) {
  MonoTime t = MonoTime{} + 1s;
  auto node = node_in_cluster(static_cast<int>(state.range(0)), t);
  const wire::Message ping = wire::Ping{7, "n0"};
  const std::vector<uint8_t> bytes = wire::encode_packet({&ping, 1});
  for (auto _ : state) {
    node->on_message(Now{t, {}}, addr(1), Channel::kDatagram, bytes);
    benchmark::DoNotOptimize(node->outbox().sends.data());
    node->outbox().clear();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["datagrams/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HandlePing)->Arg(10)->Arg(100)->Arg(1000);

// Two kernels probe each other: a's timer sends a ping, b answers, a takes the ack (and
// the same the other way round). Counts the datagrams both kernels handle.
void BM_ProbeAckExchange(benchmark::State& state) {
  MonoTime t = MonoTime{} + 1s;
  MemStore store_a(true), store_b(true);
  auto a = std::move(*Node::create({}, "a", addr(1), 1, Now{t, {}}, store_a));
  auto b = std::move(*Node::create({}, "b", addr(2), 2, Now{t, {}}, store_b));
  a->join(Now{t, {}}, {});
  b->join(Now{t, {}}, {});
  const wire::Message hello[] = {wire::Alive{1, "a", addr(1)}, wire::Alive{1, "b", addr(2)}};
  a->on_message(Now{t, {}}, addr(2), Channel::kDatagram, wire::encode_packet({&hello[1], 1}));
  b->on_message(Now{t, {}}, addr(1), Channel::kDatagram, wire::encode_packet({&hello[0], 1}));
  Node* nodes[2] = {a.get(), b.get()};
  uint64_t handled = 0;
  std::vector<Send> in_flight;
  for (auto _ : state) {
    // Move time to the next deadline of either node and fire it.
    const MonoTime next = std::min(a->next_deadline(), b->next_deadline());
    t = std::max(t, next);
    for (Node* n : nodes) {
      if (n->next_deadline() <= t) n->on_timer(Now{t, {}});
    }
    // Deliver everything until both are quiet (datagrams arrive instantly).
    for (int round = 0; round < 4; ++round) {
      in_flight.clear();
      for (Node* n : nodes) {
        for (Send& s : n->outbox().sends)
          in_flight.push_back(std::move(s));
        n->outbox().clear();
      }
      if (in_flight.empty()) break;
      for (const Send& s : in_flight) {
        Node* to = s.to == addr(1) ? nodes[0] : nodes[1];
        to->on_message(Now{t, {}}, s.to == addr(1) ? addr(2) : addr(1), s.channel, s.bytes);
        ++handled;
      }
    }
  }
  state.counters["datagrams/s"] =
      benchmark::Counter(static_cast<double>(handled), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ProbeAckExchange);

void BM_EncodeAndDecode(benchmark::State& state, wire::Message message) {
  std::vector<uint8_t> packet;
  std::vector<wire::Message> decoded;
  for (auto _ : state) {
    wire::begin_packet(packet);
    wire::append_frame(packet, message);
    benchmark::DoNotOptimize(wire::decode_packet(packet, {}, decoded).ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * packet.size()));
}
wire::PushPull push_pull_of(int members) {
  wire::PushPull p{false, false, "n0", addr(0), {}};
  for (int i = 0; i < members; ++i) {
    p.members.push_back(
        {"n" + std::to_string(i), addr(static_cast<uint32_t>(i)), 3, wire::MemberState::kAlive});
  }
  return p;
}
BENCHMARK_CAPTURE(BM_EncodeAndDecode, ping, wire::Ping{123456, "n17"});
BENCHMARK_CAPTURE(BM_EncodeAndDecode, ack, wire::Ack{123456});
BENCHMARK_CAPTURE(BM_EncodeAndDecode, alive, wire::Alive{12, "n17", addr(17)});
BENCHMARK_CAPTURE(BM_EncodeAndDecode, suspect, wire::Suspect{12, "n17", "n3"});
BENCHMARK_CAPTURE(BM_EncodeAndDecode, push_pull_100, push_pull_of(100));

// Queue 100 pieces of news, then pack them into datagrams until all are sent 8 times.
void BM_BroadcastQueue(benchmark::State& state) {
  std::vector<uint8_t> frame(14, 5);
  std::vector<uint8_t> packet;
  for (auto _ : state) {
    BroadcastQueue q;
    for (int i = 0; i < 100; ++i)
      q.push("n" + std::to_string(i), frame);
    while (!q.empty()) {
      packet.clear();
      q.fill(packet, 1400, 8);
    }
  }
  state.SetItemsProcessed(state.iterations() * 100 * 8);
}
BENCHMARK(BM_BroadcastQueue);

// The bound on values (--max-data-mb): what accounting a copy costs (a fill, then a
// touch), and the memory it keeps per copy (heap bytes, from glibc's mallinfo2), at
// 1,000,000 copies of keys of 8-14 bytes ("key<n>", as memory_bench.sh's).
void BM_DataBoundPerCopy(benchmark::State& state) {
  const int64_t copies = state.range(0);
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(copies));
  for (int64_t i = 0; i < copies; ++i)
    keys.push_back("key" + std::to_string(i));
  const Record copy{RecordKind::kValue, Version{1, 0, 99}, 0, std::string(100, 'v')};
  double heap_per_copy = 0;
  for (auto _ : state) {
    const size_t heap_before = mallinfo2().uordblks;
    DataBound bound(/*self_node_id=*/7, uint64_t{1} << 40);
    for (const std::string& key : keys)
      bound.on_change(key, nullptr, &copy);
    for (const std::string& key : keys)
      bound.touch(key);
    heap_per_copy =
        static_cast<double>(mallinfo2().uordblks - heap_before) / static_cast<double>(copies);
    benchmark::DoNotOptimize(bound.copy_bytes());
  }
  state.SetItemsProcessed(state.iterations() * copies * 2);
  state.counters["heap_bytes_per_copy"] = heap_per_copy;
}
BENCHMARK(BM_DataBoundPerCopy)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ckv
