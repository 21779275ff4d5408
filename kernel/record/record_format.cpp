#include "kernel/record/record_format.h"

#include <bit>
#include <cstring>

#include "kernel/record/config_codec.h"
#include "kernel/record/record_fields.h"
#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"
#include "kernel/wire/codec.h"

namespace ckv::record {

using wire::ByteReader;
using wire::ByteWriter;

namespace {

// Strings in records: keys, values (up to the protocol's limits), labels.
constexpr size_t kMaxString = size_t{64} << 20;
constexpr size_t kMaxItems = size_t{1} << 24;

}  // namespace

const char* to_string(Type type) {
  switch (type) {
    case Type::kStart:
      return "start";
    case Type::kJoin:
      return "join";
    case Type::kLeave:
      return "leave";
    case Type::kSetTags:
      return "set-tags";
    case Type::kForceLeave:
      return "force-leave";
    case Type::kMessage:
      return "message";
    case Type::kTimer:
      return "timer";
    case Type::kCommitFailed:
      return "commit-failed";
    case Type::kGet:
      return "get";
    case Type::kPut:
      return "put";
    case Type::kErase:
      return "delete";
    case Type::kWatch:
      return "watch";
    case Type::kUnwatch:
      return "unwatch";
    case Type::kWriteIf:
      return "write-if";
    case Type::kList:
      return "list";
    case Type::kLocalHits:
      return "local-hits";
    case Type::kStoreRefuses:
      return "store-refuses";
    case Type::kTake:
      return "take";
    case Type::kCommit:
      return "commit";
    case Type::kReleased:
      return "released";
    case Type::kStoreGet:
      return "store-get";
    case Type::kStoreMeta:
      return "store-meta";
    case Type::kStoreScanBegin:
      return "store-scan";
    case Type::kStoreScanItem:
      return "store-scan-item";
    case Type::kStoreScanEnd:
      return "store-scan-end";
    case Type::kStoreWrite:
      return "store-write";
    case Type::kDigest:
      return "digest";
    case Type::kGap:
      return "gap";
  }
  return "?";
}

const char* to_string(OutputSummary::Kind kind) {
  switch (kind) {
    case OutputSummary::Kind::kChange:
      return "member change";
    case OutputSummary::Kind::kSend:
      return "send";
    case OutputSummary::Kind::kReply:
      return "reply";
    case OutputSummary::Kind::kEvent:
      return "change event";
    case OutputSummary::Kind::kStoreWrite:
      return "store write";
  }
  return "?";
}

bool is_input(Type type) {
  const auto t = static_cast<uint8_t>(type);
  return t >= static_cast<uint8_t>(Type::kJoin) && t <= static_cast<uint8_t>(Type::kStoreRefuses);
}

bool is_store_answer(Type type) {
  const auto t = static_cast<uint8_t>(type);
  return t >= static_cast<uint8_t>(Type::kStoreGet) && t <= static_cast<uint8_t>(Type::kStoreWrite);
}

size_t Writer::begin(Type type) {
  buf_.push_back(static_cast<uint8_t>(type));
  const size_t at = buf_.size();
  buf_.insert(buf_.end(), kLengthBytes, 0);  // filled in by finish()
  return at;
}

void Writer::finish(size_t at) {
  const size_t len = buf_.size() - at - kLengthBytes;
  for (size_t i = 0; i < kLengthBytes; ++i)
    buf_[at + i] = static_cast<uint8_t>(len >> (8 * i));
}

void Writer::start(const StartInfo& info) {
  size_t at = begin(Type::kStart);
  ByteWriter w(buf_);
  w.varint(info.format);
  w.bytes(info.build);
  w.u8(static_cast<uint8_t>(info.values));
  w.bytes(info.name);
  w.address(info.address);
  w.varint(info.seed);
  put_now(w, info.start);
  std::vector<uint8_t> config;
  encode_config(info.config, config);
  w.bytes(std::string_view(reinterpret_cast<const char*>(config.data()), config.size()));
  finish(at);
}

void Writer::join(Now now, std::span<const Address> seeds) {
  size_t at = begin(Type::kJoin);
  ByteWriter w(buf_);
  put_now(w, now);
  w.varint(seeds.size());
  for (const Address& a : seeds)
    w.address(a);
  finish(at);
}

void Writer::leave(Now now) {
  size_t at = begin(Type::kLeave);
  ByteWriter w(buf_);
  put_now(w, now);
  finish(at);
}

void Writer::set_tags(Now now, const wire::Tags& tags) {
  size_t at = begin(Type::kSetTags);
  ByteWriter w(buf_);
  put_now(w, now);
  put_tags(w, tags);
  finish(at);
}

void Writer::force_leave(Now now, std::string_view member) {
  size_t at = begin(Type::kForceLeave);
  ByteWriter w(buf_);
  put_now(w, now);
  w.bytes(member);
  finish(at);
}

void Writer::message(Now now, const Address& from, Channel channel,
                     std::span<const uint8_t> bytes) {
  size_t at = begin(Type::kMessage);
  ByteWriter w(buf_);
  put_now(w, now);
  w.address(from);
  w.u8(static_cast<uint8_t>(channel));
  w.raw(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  finish(at);
}

void Writer::timer(Now now) {
  size_t at = begin(Type::kTimer);
  ByteWriter w(buf_);
  put_now(w, now);
  finish(at);
}

void Writer::commit_failed(Now now) {
  size_t at = begin(Type::kCommitFailed);
  ByteWriter w(buf_);
  put_now(w, now);
  finish(at);
}

void Writer::get(Now now, uint64_t request, std::string_view key, std::optional<Duration> timeout) {
  size_t at = begin(Type::kGet);
  ByteWriter w(buf_);
  put_now(w, now);
  w.varint(request);
  w.bytes(key);
  put_duration(w, timeout);
  finish(at);
}

void Writer::put(Now now, uint64_t request, std::string_view key, std::string_view value,
                 std::optional<Duration> ttl, const ContentType& content) {
  size_t at = begin(Type::kPut);
  ByteWriter w(buf_);
  put_now(w, now);
  w.varint(request);
  w.bytes(key);
  put_duration(w, ttl);
  put_content(w, content);
  w.bytes(value);
  finish(at);
}

void Writer::erase(Now now, uint64_t request, std::string_view key) {
  size_t at = begin(Type::kErase);
  ByteWriter w(buf_);
  put_now(w, now);
  w.varint(request);
  w.bytes(key);
  finish(at);
}

void Writer::watch(std::string_view prefix, bool on) {
  size_t at = begin(on ? Type::kWatch : Type::kUnwatch);
  ByteWriter w(buf_);
  w.bytes(prefix);
  finish(at);
}

void Writer::write_if(Now now, uint64_t request, std::string_view key, bool erase,
                      std::string_view value, std::optional<Duration> ttl,
                      const WriteCondition& condition, const ContentType& content) {
  size_t at = begin(Type::kWriteIf);
  ByteWriter w(buf_);
  put_now(w, now);
  w.varint(request);
  w.bytes(key);
  w.boolean(erase);
  put_duration(w, ttl);
  put_condition(w, condition);
  put_content(w, content);
  w.bytes(value);
  finish(at);
}

void Writer::list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
                  size_t limit, std::optional<Duration> timeout, bool values) {
  size_t at = begin(Type::kList);
  ByteWriter w(buf_);
  put_now(w, now);
  w.varint(request);
  w.bytes(prefix);
  w.bytes(after);
  w.varint(limit);
  put_duration(w, timeout);
  w.boolean(values);
  finish(at);
}

void Writer::local_hits(std::span<const std::string> keys) {
  size_t at = begin(Type::kLocalHits);
  ByteWriter w(buf_);
  w.varint(keys.size());
  for (const std::string& k : keys)
    w.bytes(k);
  finish(at);
}

void Writer::store_refuses(const Error& why) {
  size_t at = begin(Type::kStoreRefuses);
  ByteWriter w(buf_);
  put_error(w, why);
  finish(at);
}

void Writer::gate_op(Type take_or_commit) {
  size_t at = begin(take_or_commit);
  finish(at);
}

void Writer::released(const Effects& effects) {
  size_t at = begin(Type::kReleased);
  ByteWriter w(buf_);
  w.boolean(false);  // outputs in full
  put_effects(w, buf_, effects);
  finish(at);
}

void Writer::released(std::span<const OutputSummary> outputs) {
  size_t at = begin(Type::kReleased);
  ByteWriter w(buf_);
  w.boolean(true);  // summaries
  w.varint(outputs.size());
  for (const OutputSummary& o : outputs) {
    w.u8(static_cast<uint8_t>(o.kind));
    w.bytes(o.label);
    w.varint(o.size);
    w.fixed64(o.hash);
  }
  finish(at);
}

void Writer::store_get(std::string_view key, const Result<bool>& found, const Record& record) {
  size_t at = begin(Type::kStoreGet);
  ByteWriter w(buf_);
  w.bytes(key);
  put_status(w, found.ok() ? Status{} : Status{found.error()});
  const bool has = found.ok() && found.value();
  w.boolean(has);
  if (has) put_record(w, record);
  finish(at);
}

void Writer::store_meta(MetaKey key, const Result<uint64_t>& value) {
  size_t at = begin(Type::kStoreMeta);
  ByteWriter w(buf_);
  w.u8(static_cast<uint8_t>(key));
  put_status(w, value.ok() ? Status{} : Status{value.error()});
  w.varint(value.ok() ? value.value() : 0);
  finish(at);
}

void Writer::scan_begin(std::string_view from) {
  size_t at = begin(Type::kStoreScanBegin);
  ByteWriter w(buf_);
  w.bytes(from);
  finish(at);
}

void Writer::scan_item(std::string_view key, const Record& record) {
  size_t at = begin(Type::kStoreScanItem);
  ByteWriter w(buf_);
  w.bytes(key);
  put_record(w, record);
  finish(at);
}

void Writer::scan_end(const Status& status) {
  size_t at = begin(Type::kStoreScanEnd);
  ByteWriter w(buf_);
  put_status(w, status);
  finish(at);
}

void Writer::store_write(StoreWriteKind kind, std::span<const RecordWrite> writes, MetaKey meta_key,
                         uint64_t meta, const Status& status) {
  size_t at = begin(Type::kStoreWrite);
  ByteWriter w(buf_);
  w.boolean(false);  // in full
  put_status(w, status);
  encode_store_write(buf_, kind, writes, meta_key, meta);  // what write_hash() hashes
  finish(at);
}

void encode_store_write(std::vector<uint8_t>& out, StoreWriteKind kind,
                        std::span<const RecordWrite> writes, MetaKey meta_key, uint64_t meta) {
  ByteWriter w(out);
  w.u8(static_cast<uint8_t>(kind));
  if (kind == StoreWriteKind::kMeta) {
    w.u8(static_cast<uint8_t>(meta_key));
    w.varint(meta);
    return;
  }
  w.varint(writes.size());
  for (const RecordWrite& rw : writes) {
    w.bytes(rw.key);
    w.boolean(rw.record != nullptr);
    if (rw.record) put_record(w, *rw.record);
  }
}

void Writer::store_write_hash(StoreWriteKind kind, uint64_t hash, const Status& status) {
  size_t at = begin(Type::kStoreWrite);
  ByteWriter w(buf_);
  w.boolean(true);  // its hash
  w.u8(static_cast<uint8_t>(kind));
  put_status(w, status);
  w.fixed64(hash);
  finish(at);
}

void Writer::digest(uint64_t inputs, uint64_t digest) {
  size_t at = begin(Type::kDigest);
  ByteWriter w(buf_);
  w.varint(inputs);
  w.fixed64(digest);
  finish(at);
}

void Writer::gap(uint64_t lost_bytes) {
  size_t at = begin(Type::kGap);
  ByteWriter w(buf_);
  w.varint(lost_bytes);
  finish(at);
}

void Writer::raw(std::span<const uint8_t> record) {
  buf_.insert(buf_.end(), record.begin(), record.end());
}

Result<std::span<const uint8_t>> Reader::next_raw() {
  if (at_end()) return Error{ErrorCode::kTruncated, "no more records"};
  const size_t left = bytes_.size() - pos_;
  if (left < 1 + kLengthBytes)
    return Error{ErrorCode::kTruncated, "a record's header is cut short"};
  uint64_t len = 0;
  for (size_t i = 0; i < kLengthBytes; ++i)
    len |= uint64_t{bytes_[pos_ + 1 + i]} << (8 * i);
  if (len > left - 1 - kLengthBytes) return Error{ErrorCode::kTruncated, "a record is cut short"};
  if (bytes_[pos_] < kFirstType) return Error{ErrorCode::kMalformed, "a record of no type"};
  std::span<const uint8_t> whole = bytes_.subspan(pos_, 1 + kLengthBytes + len);
  pos_ += whole.size();
  return whole;
}

Result<Event> Reader::decode(std::span<const uint8_t> record) {
  if (record.size() < 1 + kLengthBytes) return Error{ErrorCode::kMalformed, "not a record"};
  const uint8_t type_byte = record[0];
  const std::span<const uint8_t> body = payload_of(record);
  uint64_t len = 0;
  for (size_t i = 0; i < kLengthBytes; ++i)
    len |= uint64_t{record[1 + i]} << (8 * i);
  if (len != body.size()) return Error{ErrorCode::kMalformed, "a record's length does not match"};
  if (type_byte < kFirstType || type_byte > kLastType) {
    return Error{ErrorCode::kUnknownType,
                 "record type " + std::to_string(type_byte) +
                     " is unknown to this build (recorded by a later one?)"};
  }
  Event e;
  e.type = static_cast<Type>(type_byte);
  ByteReader r(body);
  switch (e.type) {
    case Type::kStart: {
      StartInfo& s = e.start;
      s.format = static_cast<uint32_t>(r.varint());
      s.build = r.string(kMaxString);
      s.values = static_cast<ValueMode>(r.u8());
      s.name = r.string(wire::kMaxNameBytes);
      s.address = r.address();
      s.seed = r.varint();
      s.start = get_now(r);
      std::string config = r.string(kMaxString);
      if (r.failed()) break;
      auto decoded = decode_config(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(config.data()), config.size()));
      if (!decoded) return decoded.error();
      s.config = std::move(*decoded);
      break;
    }
    case Type::kJoin: {
      e.now = get_now(r);
      const uint64_t n = r.varint();
      for (uint64_t i = 0; i < n && !r.failed() && i < kMaxItems; ++i)
        e.seeds.push_back(r.address());
      break;
    }
    case Type::kLeave:
    case Type::kTimer:
    case Type::kCommitFailed:
      e.now = get_now(r);
      break;
    case Type::kSetTags:
      e.now = get_now(r);
      e.tags = get_tags(r);
      break;
    case Type::kForceLeave:
      e.now = get_now(r);
      e.key = r.string(wire::kMaxNameBytes);
      break;
    case Type::kMessage: {
      e.now = get_now(r);
      e.from = r.address();
      e.channel = static_cast<Channel>(r.u8());
      std::string_view rest = r.rest();
      e.bytes.assign(rest.begin(), rest.end());
      break;
    }
    case Type::kGet:
      e.now = get_now(r);
      e.request = r.varint();
      e.key = r.string(kMaxString);
      e.duration = get_duration(r);
      break;
    case Type::kPut:
      e.now = get_now(r);
      e.request = r.varint();
      e.key = r.string(kMaxString);
      e.duration = get_duration(r);
      e.content = get_content(r);
      e.value = r.string(kMaxString);
      break;
    case Type::kErase:
      e.now = get_now(r);
      e.request = r.varint();
      e.key = r.string(kMaxString);
      break;
    case Type::kWatch:
    case Type::kUnwatch:
      e.key = r.string(kMaxString);
      break;
    case Type::kWriteIf:
      e.now = get_now(r);
      e.request = r.varint();
      e.key = r.string(kMaxString);
      e.flag = r.boolean();
      e.duration = get_duration(r);
      e.condition = get_condition(r);
      e.content = get_content(r);
      e.value = r.string(kMaxString);
      break;
    case Type::kList:
      e.now = get_now(r);
      e.request = r.varint();
      e.key = r.string(kMaxString);
      e.after = r.string(kMaxString);
      e.number = r.varint();
      e.duration = get_duration(r);
      e.flag = r.boolean();
      break;
    case Type::kLocalHits: {
      const uint64_t n = r.varint();
      for (uint64_t i = 0; i < n && !r.failed() && i < kMaxItems; ++i)
        e.keys.push_back(r.string(kMaxString));
      break;
    }
    case Type::kStoreRefuses:
      e.error = get_error(r);
      break;
    case Type::kTake:
    case Type::kCommit:
      break;
    case Type::kReleased:
      e.summarized = r.boolean();
      if (!e.summarized) {
        get_effects(r, e.released);
        break;
      }
      for (uint64_t i = 0, n = r.varint(); i < n && !r.failed() && i < kMaxItems; ++i) {
        OutputSummary o;
        o.kind = static_cast<OutputSummary::Kind>(r.u8());
        o.label = r.string(kMaxString);
        o.size = r.varint();
        o.hash = r.fixed64();
        e.outputs.push_back(std::move(o));
      }
      break;
    case Type::kStoreGet:
      e.key = r.string(kMaxString);
      e.error = get_status(r);
      e.flag = r.boolean();
      if (e.flag) e.record = get_record(r);
      break;
    case Type::kStoreMeta:
      e.number = r.u8();
      e.error = get_status(r);
      e.digest = r.varint();  // the meta value
      break;
    case Type::kStoreScanBegin:
      e.key = r.string(kMaxString);
      break;
    case Type::kStoreScanItem:
      e.key = r.string(kMaxString);
      e.record = get_record(r);
      break;
    case Type::kStoreScanEnd:
      e.error = get_status(r);
      break;
    case Type::kStoreWrite:
      e.summarized = r.boolean();
      if (e.summarized) {
        e.write_kind = static_cast<StoreWriteKind>(r.u8());
        e.error = get_status(r);
        e.digest = r.fixed64();
        break;
      }
      e.error = get_status(r);
      e.write_kind = static_cast<StoreWriteKind>(r.u8());
      if (e.write_kind == StoreWriteKind::kMeta) {
        e.number = r.u8();
        e.digest = r.varint();
      } else {
        for (uint64_t i = 0, n = r.varint(); i < n && !r.failed() && i < kMaxItems; ++i) {
          std::string key = r.string(kMaxString);
          std::optional<Record> rec;
          if (r.boolean()) rec = get_record(r);
          e.writes.emplace_back(std::move(key), std::move(rec));
        }
      }
      break;
    case Type::kDigest:
      e.number = r.varint();
      e.digest = r.fixed64();
      break;
    case Type::kGap:
      e.number = r.varint();
      break;
  }
  if (r.failed()) {
    return Error{r.error().code,
                 std::string("a ") + to_string(e.type) + " record: " + r.error().detail};
  }
  return e;
}

namespace {
uint64_t byte_swap(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i, v >>= 8)
    r = (r << 8) | (v & 0xff);
  return r;
}
}  // namespace

uint64_t hash_bytes(std::span<const uint8_t> bytes, uint64_t seed) {
  // Word at a time: xor in 8 bytes, multiply by an odd constant, fold the high half down.
  constexpr uint64_t kMul = 0x9fb21c651e98df25ULL;
  uint64_t h = seed ^ (bytes.size() * kMul);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    if constexpr (std::endian::native == std::endian::big) w = byte_swap(w);
    h = (h ^ w) * kMul;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < bytes.size(); ++k)
    tail |= uint64_t{bytes[i + k]} << (8 * k);
  h = (h ^ tail) * kMul;
  h ^= h >> 29;
  h *= kMul;
  h ^= h >> 32;
  return h;
}

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  return hash_bytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), seed);
}

}  // namespace ckv::record
