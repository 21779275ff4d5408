// Key-value micro-benchmarks: what one kernel spends on a local read, on a write and its
// invalidations, and on a cluster read, on clusters of real Nodes that exchange packets in
// memory (instant delivery, one thread, fake time). Release builds only give meaningful
// numbers:
//   build/release/bench/kv_bench
//
// Every benchmark builds its cluster with the real join protocol, so the nodes' state (the
// member tables, the invalidation logs announced and acknowledged) is what a running
// cluster has; seeds are fixed, time advances only when a benchmark moves it.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernel/kv/mem_store.h"
#include "kernel/node.h"
#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"
#include "kernel/wire/codec.h"
#include "tests/support/mem_cluster.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kFirstIp = 0x0a000001u;
constexpr size_t kKeys = 1000;
constexpr size_t kValueBytes = 100;

Address addr(size_t i) {
  return MemCluster::addr(i);
}
size_t index_of(const Address& a) {
  return a.ip - kFirstIp;
}

std::vector<std::string> make_keys() {
  std::vector<std::string> keys;
  for (size_t i = 0; i < kKeys; ++i)
    keys.push_back("user:" + std::to_string(100000 + i));
  return keys;
}

std::string make_value(char fill) {
  return std::string(kValueBytes, fill);
}

// The type of the first frame of a packet (see wire/codec.h: version, then frames).
wire::MessageType first_type(std::span<const uint8_t> packet) {
  return packet.size() > 1 ? static_cast<wire::MessageType>(packet[1]) : wire::MessageType{};
}

uint64_t read_varint(std::span<const uint8_t> bytes, size_t& pos) {
  wire::ByteReader r(bytes.subspan(pos));
  const uint64_t v = r.varint();
  pos = bytes.size() - r.remaining();
  return v;
}

size_t varint_width(uint64_t v) {
  return wire::varint_size(v);
}

// Where the body of a packet's first frame starts: after the version, type and length.
size_t first_body(std::span<const uint8_t> packet) {
  size_t pos = 2;
  (void)read_varint(packet, pos);
  return pos;
}

// The id of the Query in a packet the kernel sent (its body starts with the id).
uint64_t query_id(std::span<const uint8_t> packet) {
  size_t pos = first_body(packet);
  return read_varint(packet, pos);
}

// Rewrites the id of the QueryReply in `packet` (its body starts with the id): in place
// when the new id takes as many bytes, else by decoding and encoding the packet again.
void set_reply_id(std::vector<uint8_t>& packet, uint64_t id) {
  size_t pos = first_body(packet);
  const size_t at = pos;
  const uint64_t old = read_varint(packet, pos);
  if (varint_width(old) == varint_width(id)) {
    for (size_t i = at; i < pos; ++i, id >>= 7) {
      packet[i] = static_cast<uint8_t>((id & 0x7f) | (i + 1 < pos ? 0x80 : 0));
    }
    return;
  }
  std::vector<wire::Message> decoded;
  (void)wire::decode_packet(packet, {}, decoded);
  std::get<wire::QueryReply>(decoded.at(0)).id = id;
  packet = wire::encode_packet(decoded);
}

// A cluster of `members` real Nodes ("n0", "n1", ...) on MemStores, delivering every
// packet at once and in order. Nodes run their timers only in step()/run_for(); the
// benchmarks drive them by hand in between.
// The writer's next put, round-robin over `keys`, then one batch delay, when the timer
// that sends its invalidation batch fires.
void put_next(MemCluster& c, Node& writer, const std::vector<std::string>& keys,
              const std::string& value, uint64_t& request, size_t& i) {
  writer.put(c.now(), ++request, keys[i], value);
  if (++i == keys.size()) i = 0;
  c.set_time(c.time() + NodeConfig{}.kv.batch_delay);
  if (writer.next_deadline() <= c.time()) writer.on_timer(c.now());
}

bool cluster_ok(benchmark::State& state, const MemCluster& c) {
  if (c.error().empty()) return true;
  state.SkipWithError(c.error().c_str());
  return false;
}

// --- local reads --------------------------------------------------------------------------

// get() of a key the node holds a current copy of: a MemStore lookup, the copy of the
// 100-byte value into the Reply, and the Reply into the outbox (taken and cleared, as the
// driver does). Keys are read round-robin from 1000. In the cluster of one the node wrote
// the keys itself; in the cluster of three n0 wrote them and n1, the one measured, cached
// them through cluster reads. No time passes.
void BM_LocalGet(benchmark::State& state) {
  const auto members = static_cast<size_t>(state.range(0));
  MemCluster c(members, 1000);
  if (!cluster_ok(state, c)) return;
  const std::vector<std::string> keys = make_keys();
  uint64_t request = 0;
  for (const std::string& key : keys)
    c.node(0).put(c.now(), ++request, key, make_value('v'));
  c.collect(0);
  c.run_for(5ms);  // the invalidations leave and are acknowledged
  const size_t reader = members == 1 ? 0 : 1;
  if (reader != 0) {
    for (const std::string& key : keys) {
      c.node(reader).get(c.now(), ++request, key);
      c.collect(reader);
      c.pump();
    }
  }
  c.replies.clear();
  Node& node = c.node(reader);
  const uint64_t local_before = node.stats().gets_local;
  size_t i = 0;
  for (auto _ : state) {
    node.get(c.now(), ++request, keys[i]);
    if (++i == keys.size()) i = 0;
    Outbox& out = node.outbox();
    benchmark::DoNotOptimize(out.replies.back().value.data());
    out.clear();
  }
  if (node.stats().gets_local - local_before != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("a get was not answered from the local copy");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocalGet)->Arg(1)->Arg(3);

// --- writes -------------------------------------------------------------------------------

// Acknowledges everything `origin`'s log holds: acks are cumulative and the origin clamps
// `applied` to its log's head, so one prebuilt packet per member stands for the real ack
// (which would name the head exactly) on every write.
std::vector<std::vector<uint8_t>> acks_for(MemCluster& c, size_t origin) {
  std::vector<std::vector<uint8_t>> acks(c.size());
  for (size_t p = 0; p < c.size(); ++p) {
    const wire::Message ack = wire::InvalidateAck{"n" + std::to_string(p),
                                                  c.node(origin).kv().log_id(), uint64_t{1} << 62};
    acks[p] = wire::encode_packet({&ack, 1});
  }
  return acks;
}

// What the writing node does for one put(), one write per 1 ms batch (the worst case: each
// write its own Invalidate to every member). Per iteration: put() of a 100-byte value
// (store lookup, HLC tick, store write, log append, the Reply); 1 ms of fake time passes
// and the node's timer fires as the runtime would fire it, flushing the batch: an
// Invalidate datagram encoded for each of the N-1 members; then the node takes the N-1
// InvalidateAcks the members send back (replayed from prebuilt packets, see acks_for).
// The Invalidates are not delivered, so the other nodes' work is not measured (see
// BM_PutInvalidationRoundTrip for that). The writer's membership traffic, a probe every
// second of fake time and so about once every 1000 writes, goes to the real peers and
// back, their part included; it weighs little. Keys cycle through 1000.
void BM_PutWithInvalidation(benchmark::State& state) {
  MemCluster c(static_cast<size_t>(state.range(0)), 1000);
  if (!cluster_ok(state, c)) return;
  const std::vector<std::string> keys = make_keys();
  const std::string value = make_value('w');
  const std::vector<std::vector<uint8_t>> acks = acks_for(c, 0);
  Node& writer = c.node(0);
  std::vector<Send> sends;
  uint64_t request = 0, invalidates = 0, failed = 0;
  size_t i = 0;
  for (auto _ : state) {
    put_next(c, writer, keys, value, request, i);
    Outbox& out = writer.outbox();
    for (const Reply& r : out.replies)
      failed += r.status != ReplyStatus::kOk;
    sends.swap(out.sends);
    out.clear();
    for (Send& s : sends) {
      const size_t to = index_of(s.to);
      if (first_type(s.bytes) == wire::MessageType::kInvalidate && to < acks.size()) {
        ++invalidates;
        writer.on_message(c.now(), s.to, Channel::kDatagram, acks[to]);
      } else {
        c.send(0, s);  // membership traffic: to the real peers
      }
    }
    sends.clear();
    c.collect(0);
    c.pump();
  }
  if (failed > 0 || writer.stats().store_errors > 0) state.SkipWithError("a put failed");
  state.SetItemsProcessed(state.iterations());
  state.counters["invalidates/put"] =
      benchmark::Counter(static_cast<double>(invalidates), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_PutWithInvalidation)->Arg(3)->Arg(10)->Arg(100);

// The whole cluster's work for one write, on one thread: as BM_PutWithInvalidation, but
// the Invalidates go to the N-1 real peers (each decodes it, finds no copy of the key to
// drop and acknowledges) and their real acks come back to the writer.
void BM_PutInvalidationRoundTrip(benchmark::State& state) {
  MemCluster c(static_cast<size_t>(state.range(0)), 1000);
  if (!cluster_ok(state, c)) return;
  const std::vector<std::string> keys = make_keys();
  const std::string value = make_value('w');
  Node& writer = c.node(0);
  const uint64_t received_before = writer.stats().datagrams_received;
  uint64_t request = 0;
  size_t i = 0;
  for (auto _ : state) {
    put_next(c, writer, keys, value, request, i);
    c.collect(0);
    c.pump();
    c.replies.clear();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["writer_datagrams_in/put"] =
      benchmark::Counter(static_cast<double>(writer.stats().datagrams_received - received_before),
                         benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_PutInvalidationRoundTrip)->Arg(3)->Arg(10)->Arg(100);

// --- cluster reads ------------------------------------------------------------------------

enum class Answer { kNotFound, kValue };

// A cluster where n0 holds nothing for `key` and the other members answer a query for it
// with "not found" or, for kValue, each with its own current copy of the same 100-byte
// value (n1 wrote it; every other member but n0 read it).
struct ReadSetup {
  explicit ReadSetup(size_t members, Answer answer) : c(members, 1000) {
    if (!c.error().empty() || answer == Answer::kNotFound) return;
    c.node(1).put(c.now(), 1, key, make_value('r'));
    c.collect(1);
    c.run_for(5ms);
    for (size_t p = 2; p < c.size(); ++p) {
      c.node(p).get(c.now(), 1, key);
      c.collect(p);
      c.pump();
    }
    c.replies.clear();
  }
  MemCluster c;
  const std::string key = "user:4242";
};

bool read_ok(const Reply& r, Answer answer) {
  const ReplyStatus want = answer == Answer::kValue ? ReplyStatus::kOk : ReplyStatus::kNotFound;
  return r.status == want && r.remote && r.current && r.rounds == 1 &&
         (answer == Answer::kNotFound || r.value.size() == kValueBytes);
}

// What the reading node does for a get() it must ask the cluster about: the miss in its
// store, the fan-out (a Query datagram encoded for each of the N-1 members), then the N-1
// QueryReply datagrams coming in (decode, match to the read, compare versions) until the
// read completes with its Reply (for kValue, caching the value it found). The answers are
// the packets the real peers sent for the first read, replayed with the id of each new
// read written in, so the peers' work is not measured (see BM_QueryRoundTrip). For kValue
// the benchmark erases the copy the read cached, so the next read misses again (a map
// erase in the MemStore; small next to the rest). No time passes.
void BM_QueryFanOutAndCompletion(benchmark::State& state, Answer answer) {
  ReadSetup setup(static_cast<size_t>(state.range(0)), answer);
  MemCluster& c = setup.c;
  if (!cluster_ok(state, c)) return;
  Node& reader = c.node(0);
  // The first read goes to the real peers: their answers become the templates.
  std::vector<std::vector<uint8_t>> answers(c.size());
  std::vector<size_t> peers;
  reader.get(c.now(), 1, setup.key);
  std::vector<Send> questions = std::move(reader.outbox().sends);
  reader.outbox().clear();
  for (const Send& q : questions) {
    const size_t p = index_of(q.to);
    c.node(p).on_message(c.now(), addr(0), q.channel, q.bytes);
    std::vector<Send>& out = c.node(p).outbox().sends;
    if (out.size() != 1 || first_type(out[0].bytes) != wire::MessageType::kQueryReply) {
      state.SkipWithError("a peer did not answer the query with one QueryReply");
      return;
    }
    answers[p] = out[0].bytes;
    peers.push_back(p);
    reader.on_message(c.now(), addr(p), out[0].channel, out[0].bytes);
    c.node(p).outbox().clear();
  }
  if (reader.outbox().replies.size() != 1 || !read_ok(reader.outbox().replies[0], answer)) {
    state.SkipWithError("the first read did not complete as expected");
    return;
  }
  reader.outbox().clear();
  MemStore& store = c.store(0);
  uint64_t request = 1, bad = 0;
  for (auto _ : state) {
    (void)store.erase(setup.key);  // a no-op for kNotFound: nothing was cached
    reader.get(c.now(), ++request, setup.key);
    Outbox& out = reader.outbox();
    const uint64_t id = out.sends.empty() ? 0 : query_id(out.sends[0].bytes);
    out.clear();
    for (size_t p : peers) {
      set_reply_id(answers[p], id);
      reader.on_message(c.now(), addr(p), Channel::kDatagram, answers[p]);
    }
    bad += out.replies.size() != 1 || !read_ok(out.replies[0], answer);
    out.clear();
  }
  if (bad > 0) state.SkipWithError("a read did not complete with the expected answer");
  if (reader.kv().pending_queries() != 0) state.SkipWithError("reads left pending");
  state.SetItemsProcessed(state.iterations());
  state.counters["answers/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * peers.size()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_QueryFanOutAndCompletion, not_found, Answer::kNotFound)
    ->Arg(3)
    ->Arg(10)
    ->Arg(100);
BENCHMARK_CAPTURE(BM_QueryFanOutAndCompletion, value, Answer::kValue)->Arg(3)->Arg(10)->Arg(100);

// The whole cluster's work for one cluster read, on one thread: as
// BM_QueryFanOutAndCompletion, but the queries go to the N-1 real peers, which look the
// key up and encode their answers.
void BM_QueryRoundTrip(benchmark::State& state, Answer answer) {
  ReadSetup setup(static_cast<size_t>(state.range(0)), answer);
  MemCluster& c = setup.c;
  if (!cluster_ok(state, c)) return;
  Node& reader = c.node(0);
  MemStore& store = c.store(0);
  uint64_t request = 0, bad = 0;
  for (auto _ : state) {
    (void)store.erase(setup.key);
    reader.get(c.now(), ++request, setup.key);
    c.collect(0);
    c.pump();
    bad += c.replies.size() != 1 || !read_ok(c.replies[0], answer);
    c.replies.clear();
  }
  if (bad > 0) state.SkipWithError("a read did not complete with the expected answer");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_QueryRoundTrip, not_found, Answer::kNotFound)->Arg(3)->Arg(10)->Arg(100);
BENCHMARK_CAPTURE(BM_QueryRoundTrip, value, Answer::kValue)->Arg(3)->Arg(10)->Arg(100);

}  // namespace
}  // namespace ckv
