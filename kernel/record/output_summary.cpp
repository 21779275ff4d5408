#include "kernel/record/output_summary.h"

#include "kernel/record/record_fields.h"

namespace ckv::record {

namespace {

template <class Put, class T>
uint64_t hash_of(Put put, const T& item, std::vector<uint8_t>& scratch) {
  scratch.clear();
  wire::ByteWriter w(scratch);
  put(w, item);
  return hash_bytes(std::span<const uint8_t>(scratch));
}

const char* channel_name(Channel c) {
  return c == Channel::kStream ? "stream" : "datagram";
}

}  // namespace

void summarize(const Effects& effects, std::vector<OutputSummary>& out) {
  std::vector<uint8_t> scratch;
  for (const MemberChange& c : effects.changes) {
    out.push_back({OutputSummary::Kind::kChange, c.name, 0, hash_of(put_change, c, scratch)});
  }
  for (const Send& s : effects.sends) {
    out.push_back({OutputSummary::Kind::kSend, s.to.to_string() + " " + channel_name(s.channel),
                   s.bytes.size(), hash_of(put_send, s, scratch)});
  }
  for (const Reply& r : effects.replies) {
    out.push_back({OutputSummary::Kind::kReply, "request " + std::to_string(r.request),
                   r.value.size(), hash_of(put_reply, r, scratch)});
  }
  for (const ChangeEvent& e : effects.events) {
    out.push_back({OutputSummary::Kind::kEvent, e.key, 0, hash_of(put_event, e, scratch)});
  }
}

uint64_t write_hash(StoreWriteKind kind, std::span<const RecordWrite> writes, MetaKey meta_key,
                    uint64_t meta) {
  std::vector<uint8_t> bytes;
  encode_store_write(bytes, kind, writes, meta_key, meta);
  return hash_bytes(std::span<const uint8_t>(bytes));
}

uint64_t write_hash(const Event& write) {
  std::vector<RecordWrite> writes;
  writes.reserve(write.writes.size());
  for (const auto& [key, rec] : write.writes)
    writes.push_back(RecordWrite{key, rec ? &*rec : nullptr});
  return write_hash(write.write_kind, writes, static_cast<MetaKey>(write.number), write.digest);
}

}  // namespace ckv::record
