#include "kernel/record/condenser.h"

#include "kernel/record/output_summary.h"
#include "kernel/record/record_fields.h"
#include "kernel/wire/codec.h"

namespace ckv::record {

namespace {

bool carries_values(Type type) {
  switch (type) {
    case Type::kReleased:
    case Type::kStoreWrite:
    case Type::kPut:
    case Type::kWriteIf:
    case Type::kMessage:
    case Type::kStoreGet:
    case Type::kStoreScanItem:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status Condenser::condense(std::span<const uint8_t> in, Writer& out) {
  Reader reader(in);
  while (!reader.at_end()) {
    auto raw = reader.next_raw();
    if (!raw) {
      out.gap(in.size());
      return raw.error();
    }
    const auto type = static_cast<Type>((*raw)[0]);
    if (is_input(type)) {
      // Before the input, where a replay reads records one by one (not inside a store call
      // or a release): the digest of every output so far.
      if (inputs_ > 0 && inputs_ % kDigestEvery == 0) out.digest(inputs_, digest_);
      ++inputs_;
    }
    if (type == Type::kReleased) {
      condense_release(*raw, out);
      continue;
    }
    if (type == Type::kStoreWrite && !masked_) {
      // The write's hash is over its bytes from the kind on (output_summary.h): no decoding.
      wire::ByteReader payload(payload_of(*raw));
      (void)payload.boolean();
      const std::optional<Error> error = get_status(payload);
      const std::string_view hashed = payload.rest();
      const auto kind =
          hashed.empty() ? StoreWriteKind::kPut : static_cast<StoreWriteKind>(hashed[0]);
      const uint64_t h = hash_bytes(hashed);
      digest_ = fold_digest(digest_, h);
      out.store_write_hash(kind, h, error ? Status{*error} : Status{});
      continue;
    }
    if (masked_ && type != Type::kStoreWrite && mask_in_place(type, *raw, out)) continue;
    const bool condensed = type == Type::kStoreWrite;
    if (!condensed && !(masked_ && carries_values(type))) {
      out.raw(*raw);
      continue;
    }
    auto decoded = Reader::decode(*raw);
    if (!decoded) {
      out.gap(raw->size());
      return decoded.error();
    }
    Event& e = *decoded;
    if (masked_) mask_.mask(e);
    switch (type) {
      case Type::kStoreWrite: {
        const uint64_t h = write_hash(e);
        digest_ = fold_digest(digest_, h);
        out.store_write_hash(e.write_kind, h, e.error ? Status{*e.error} : Status{});
        break;
      }
      case Type::kPut:
        out.put(e.now, e.request, e.key, e.value, e.duration, e.content);
        break;
      case Type::kWriteIf:
        out.write_if(e.now, e.request, e.key, e.flag, e.value, e.duration, e.condition, e.content);
        break;
      case Type::kMessage:
        out.message(e.now, e.from, e.channel, e.bytes);
        break;
      case Type::kStoreGet: {
        Result<bool> found = e.error ? Result<bool>(*e.error) : Result<bool>(e.flag);
        out.store_get(e.key, found, e.record);
        break;
      }
      case Type::kStoreScanItem:
        out.scan_item(e.key, e.record);
        break;
      default:
        out.raw(*raw);
        break;
    }
  }
  return Status{};
}

namespace {

void skip_string(wire::ByteReader& r) {
  (void)r.take(r.varint());
}
void skip_version(wire::ByteReader& r) {
  (void)r.varint();
  (void)r.varint();
  (void)r.varint();
}
void skip_record_to_value(wire::ByteReader& r) {
  (void)r.u8();  // kind
  skip_version(r);
  (void)r.varint();  // validated epoch
  (void)r.varint();  // expiry
  skip_string(r);    // content: media
  skip_string(r);    // and encoding
}

}  // namespace

// Inputs and answers whose value is their last field: the record is copied as it is and
// its value masked where it lies (masks keep lengths), without decoding the rest.
bool Condenser::mask_in_place(Type type, std::span<const uint8_t> raw, Writer& out) {
  wire::ByteReader r(payload_of(raw));
  switch (type) {
    case Type::kPut:
      (void)r.varint(), (void)r.varint();  // now
      (void)r.varint();                    // request
      skip_string(r);                      // key
      if (r.boolean()) (void)r.varint();   // ttl
      skip_string(r), skip_string(r);      // content
      break;
    case Type::kWriteIf: {
      (void)r.varint(), (void)r.varint(), (void)r.varint();
      skip_string(r);
      (void)r.boolean();                  // erase
      if (r.boolean()) (void)r.varint();  // ttl
      (void)r.u8();                       // condition
      for (uint64_t i = 0, n = r.varint(); i < n && !r.failed(); ++i)
        skip_version(r);
      skip_string(r), skip_string(r);
      break;
    }
    case Type::kStoreGet:
      skip_string(r);  // key
      if (r.boolean()) {
        (void)r.u8();
        skip_string(r);
      }
      if (!r.boolean()) {  // nothing found: nothing to mask
        out.raw(raw);
        return true;
      }
      skip_record_to_value(r);
      break;
    case Type::kStoreScanItem:
      skip_string(r);
      skip_record_to_value(r);
      break;
    case Type::kMessage: {
      (void)r.varint(), (void)r.varint();
      (void)r.address();
      (void)r.u8();
      if (r.failed()) return false;
      const size_t at = raw.size() - r.remaining();
      std::vector<uint8_t> packet(raw.begin() + static_cast<ptrdiff_t>(at), raw.end());
      const size_t before = packet.size();
      mask_.mask_packet(packet);
      if (packet.size() != before) return false;  // cannot happen: masks keep lengths
      out.raw(raw.first(at));
      out.raw(packet);
      return true;
    }
    default:
      return false;
  }
  const uint64_t value_len = r.varint();
  if (r.failed() || value_len != r.remaining()) return false;
  const size_t at = raw.size() - r.remaining();
  std::string value(reinterpret_cast<const char*>(raw.data() + at), value_len);
  mask_.mask(value);
  out.raw(raw.first(at));
  out.raw(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  return true;
}

void Condenser::condense_release(std::span<const uint8_t> raw, Writer& out) {
  wire::ByteReader payload(payload_of(raw));
  (void)payload.boolean();  // in full
  summaries_.clear();
  // Each item's summary hashes its encoding as it is, except where masking changes it (a
  // send or a reply carrying a value): that item is decoded, masked and encoded again.
  auto add = [&](OutputSummary::Kind kind, std::string label, uint64_t size, uint64_t hash) {
    summaries_.push_back(OutputSummary{kind, std::move(label), size, hash});
    digest_ = fold_digest(digest_, hash);
  };
  for (uint64_t i = 0, n = payload.varint(); i < n && !payload.failed(); ++i) {
    const std::span<const uint8_t> item = get_item(payload);
    wire::ByteReader ir(item);
    (void)ir.varint();  // when
    add(OutputSummary::Kind::kChange, ir.string(wire::kMaxNameBytes), 0, hash_bytes(item));
  }
  for (uint64_t i = 0, n = payload.varint(); i < n && !payload.failed(); ++i) {
    const std::span<const uint8_t> item = get_item(payload);
    wire::ByteReader ir(item);
    const Address to = ir.address();
    const auto channel = static_cast<Channel>(ir.u8());
    const uint64_t size = ir.varint();
    std::string label = to.to_string() + (channel == Channel::kStream ? " stream" : " datagram");
    uint64_t hash = hash_bytes(item);
    if (masked_) {
      wire::ByteReader again(item);
      Send s = get_send(again);
      mask_.mask_packet(s.bytes);
      scratch_.clear();
      wire::ByteWriter w(scratch_);
      put_send(w, s);
      hash = hash_bytes(std::span<const uint8_t>(scratch_));
    }
    add(OutputSummary::Kind::kSend, std::move(label), size, hash);
  }
  for (uint64_t i = 0, n = payload.varint(); i < n && !payload.failed(); ++i) {
    const std::span<const uint8_t> item = get_item(payload);
    wire::ByteReader ir(item);
    Reply reply = get_reply(ir);
    uint64_t hash = hash_bytes(item);
    if (masked_) {
      mask_.mask(reply.value);
      for (ListedKey& k : reply.keys)
        mask_.mask(k.value);
      scratch_.clear();
      wire::ByteWriter w(scratch_);
      put_reply(w, reply);
      hash = hash_bytes(std::span<const uint8_t>(scratch_));
    }
    add(OutputSummary::Kind::kReply, "request " + std::to_string(reply.request), reply.value.size(),
        hash);
  }
  for (uint64_t i = 0, n = payload.varint(); i < n && !payload.failed(); ++i) {
    const std::span<const uint8_t> item = get_item(payload);
    wire::ByteReader ir(item);
    (void)ir.u8();  // kind
    add(OutputSummary::Kind::kEvent, ir.string(size_t{64} << 20), 0, hash_bytes(item));
  }
  out.released(summaries_);
}

}  // namespace ckv::record
