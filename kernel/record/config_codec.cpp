#include "kernel/record/config_codec.h"

#include "kernel/record/record_fields.h"
#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"

namespace ckv::record {

namespace {

// Every field of both configs is listed once, in `visit_fields`, for the encoder and the
// decoder alike. A field added to either config must be added there: these sizes make the
// build say so (update them with the list).
static_assert(sizeof(MembershipConfig) == 192, "a MembershipConfig field is not recorded");
static_assert(sizeof(KvConfig) == 168, "a KvConfig field is not recorded");

struct Encode {
  wire::ByteWriter& w;
  void operator()(const Duration& d) { w.varint(static_cast<uint64_t>(d.count())); }
  void operator()(const int& v) { w.varint(static_cast<uint64_t>(static_cast<int64_t>(v))); }
  void operator()(const size_t& v) { w.varint(v); }
  void operator()(const bool& v) { w.boolean(v); }
};

struct Decode {
  wire::ByteReader& r;
  void operator()(Duration& d) { d = Duration(static_cast<int64_t>(r.varint())); }
  void operator()(int& v) { v = static_cast<int>(static_cast<int64_t>(r.varint())); }
  void operator()(size_t& v) { v = r.varint(); }
  void operator()(bool& v) { v = r.boolean(); }
};

template <class Config, class F>
void visit_fields(Config& c, F&& f) {
  auto& m = c.membership;
  f(m.probe_interval), f(m.probe_timeout), f(m.indirect_checks), f(m.gossip_interval);
  f(m.gossip_nodes), f(m.gossip_to_the_dead), f(m.retransmit_mult), f(m.datagram_budget);
  f(m.suspicion_mult), f(m.suspicion_max_timeout_mult), f(m.awareness_max_multiplier);
  f(m.lifeguard), f(m.push_pull_interval), f(m.reconnect_interval), f(m.join_retry_min);
  f(m.join_retry_max), f(m.reconnect_timeout), f(m.tombstone_timeout);
  f(m.max_datagram_bytes), f(m.max_stream_bytes), f(m.max_datagram_frames);
  f(m.max_stream_frames), f(m.max_members);
  auto& k = c.kv;
  f(k.max_key_bytes), f(k.max_value_bytes), f(k.default_ttl), f(k.max_ttl);
  f(k.tombstone_horizon), f(k.query_timeout), f(k.max_query_timeout), f(k.query_retry);
  f(k.unknown_writer_wait), f(k.max_pending_queries), f(k.max_feed_keys), f(k.join_wait);
  f(k.cas_timeout), f(k.cas_handoff), f(k.inline_value_bytes), f(k.batch_delay);
  f(k.resend_interval), f(k.log_entries), f(k.log_bytes), f(k.stream_chunk_bytes);
}

}  // namespace

void encode_config(const NodeConfig& config, std::vector<uint8_t>& out) {
  wire::ByteWriter w(out);
  put_tags(w, config.membership.tags);
  w.varint(config.kv.max_data_bytes);
  visit_fields(config, Encode{w});
}

Result<NodeConfig> decode_config(std::span<const uint8_t> bytes) {
  NodeConfig config;
  wire::ByteReader r(bytes);
  config.membership.tags = get_tags(r);
  config.kv.max_data_bytes = r.varint();
  visit_fields(config, Decode{r});
  if (r.failed()) return Error{r.error().code, "the recorded configuration: " + r.error().detail};
  return config;
}

}  // namespace ckv::record
