#include "kernel/wire/codec.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "kernel/core/assert.h"
#include "kernel/core/enum_names.h"
#include "kernel/membership/tags.h"
#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"

namespace ckv::wire {

namespace {

// Smallest encoding of one push-pull member record: 1-byte name, address, incarnation,
// state. Bounds how many records a packet of a given size can claim to hold.
constexpr size_t kMinMemberRecordBytes = 2 + 7 + 1 + 1;

// Smallest encoding of one invalidation entry: 1-byte key, version.
constexpr size_t kMinEntryBytes = 2 + 1 + 1 + 1;

template <class>
inline constexpr bool kAlwaysFalse = false;

// A QueryReply that travels as kTypedQueryReply (a value with a content type).
bool typed(const QueryReply& m) {
  return m.answer == QueryAnswer::kValue && !m.content.empty();
}

// A QueryReply that travels as kExpiringQueryReply (a value with an expiry, no type).
bool expiring(const QueryReply& m) {
  return m.answer == QueryAnswer::kValue && m.expires_us != 0 && !typed(m);
}

void write_content(ByteWriter& w, const ContentType& c) {
  w.bytes(c.media);
  w.bytes(c.encoding);
}

ContentType read_content(ByteReader& r) {
  ContentType c;
  c.media = r.string(kMaxContentTypeBytes);
  c.encoding = r.string(kMaxContentTypeBytes);
  if (!r.failed() && !valid_content_type(c)) r.fail(ErrorCode::kMalformed, "bad content type");
  return c;
}

// A node's tags (kernel/membership/tags.h's bounds): `count` as the caller codes it, then
// each key and value. Tags not said are written as nothing at the end of an Alive (an
// earlier revision's frame, byte for byte), and as a count of 0 in a PushPull's section
// (where a count n + 1 says n tags); a section that would say no record's tags is left out.
void write_tag_list(ByteWriter& w, uint64_t count, const Tags& tags) {
  w.varint(count);
  for (const Tag& t : tags) {
    w.bytes(t.key);
    w.bytes(t.value);
  }
}

void write_version(ByteWriter& w, const Version& v) {
  w.varint(v.wall_us);
  w.varint(v.logical);
  w.varint(v.node);
}

Version read_version(ByteReader& r) {
  Version v;
  v.wall_us = r.varint();
  v.logical = r.u32();
  v.node = r.varint();
  return v;
}

std::string read_key(ByteReader& r) {
  std::string key = r.string(kMaxKeyBytes);
  if (!r.failed() && key.empty()) r.fail(ErrorCode::kMalformed, "empty key");
  return key;
}

void write_entries(ByteWriter& w, const std::vector<KeyVersion>& entries) {
  w.varint(entries.size());
  for (const KeyVersion& e : entries) {
    w.bytes(e.key);
    write_version(w, e.version);
  }
}

// `count` (key, version) entries, already checked against the bytes left.
void read_entries(ByteReader& r, uint64_t count, std::vector<KeyVersion>& out) {
  out.reserve(count);
  for (uint64_t i = 0; i < count && !r.failed(); ++i) {
    KeyVersion e;
    e.key = read_key(r);
    e.version = read_version(r);
    out.push_back(std::move(e));
  }
}

void encode_body(ByteWriter& w, const Message& m) {
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, Ping>) {
          w.varint(msg.seq);
          w.bytes(msg.target);
        } else if constexpr (std::is_same_v<T, IndirectPing>) {
          w.varint(msg.seq);
          w.bytes(msg.target);
          w.address(msg.target_addr);
          w.boolean(msg.want_nack);
        } else if constexpr (std::is_same_v<T, Ack> || std::is_same_v<T, Nack>) {
          w.varint(msg.seq);
        } else if constexpr (std::is_same_v<T, Alive>) {
          w.varint(msg.incarnation);
          w.bytes(msg.node);
          w.address(msg.addr);
          if (msg.tags_said) write_tag_list(w, msg.tags.size(), msg.tags);
        } else if constexpr (std::is_same_v<T, Suspect> || std::is_same_v<T, Dead>) {
          w.varint(msg.incarnation);
          w.bytes(msg.node);
          w.bytes(msg.from);
        } else if constexpr (std::is_same_v<T, PushPull>) {
          w.boolean(msg.join);
          w.boolean(msg.reply);
          w.bytes(msg.sender);
          w.address(msg.sender_addr);
          w.varint(msg.members.size());
          for (const MemberRecord& r : msg.members) {
            w.bytes(r.name);
            w.address(r.addr);
            w.varint(r.incarnation);
            w.u8(static_cast<uint8_t>(r.state));
          }
          // Revision 5: every record's tags, after the records an older revision reads.
          const bool any_said = std::any_of(msg.members.begin(), msg.members.end(),
                                            [](const MemberRecord& r) { return r.tags_said; });
          if (any_said) {
            w.varint(msg.members.size());
            for (const MemberRecord& r : msg.members) {
              if (r.tags_said) {
                write_tag_list(w, r.tags.size() + 1, r.tags);
              } else {
                w.varint(0);
              }
            }
          }
        } else if constexpr (std::is_same_v<T, Invalidate>) {
          w.bytes(msg.origin);
          w.varint(msg.log_id);
          w.varint(msg.first_seq);
          write_entries(w, msg.entries);
          CKV_ASSERT(msg.writes.empty() || msg.writes.size() == msg.entries.size(),
                     "an invalidation says the kind of every entry or of none");
          for (const EntryWrite& e : msg.writes) {
            w.u8(static_cast<uint8_t>(e.kind));
            if (e.kind == EntryKind::kPut) w.varint(e.expires_us);
          }
        } else if constexpr (std::is_same_v<T, Newer>) {
          write_entries(w, msg.entries);
        } else if constexpr (std::is_same_v<T, CollectCheck>) {
          w.bytes(msg.origin);
          w.varint(msg.round);
          write_entries(w, msg.entries);
        } else if constexpr (std::is_same_v<T, CollectAck>) {
          w.bytes(msg.member);
          w.varint(msg.round);
          w.boolean(msg.clean);
        } else if constexpr (std::is_same_v<T, CondWrite>) {
          w.varint(msg.id);
          w.bytes(msg.origin);
          w.bytes(msg.key);
          w.boolean(msg.erase);
          w.u8(static_cast<uint8_t>(msg.condition.kind));
          w.varint(msg.condition.versions.size());
          for (const Version& v : msg.condition.versions)
            write_version(w, v);
          w.varint(msg.ttl_us);
          write_content(w, msg.content);
          w.bytes(msg.value);
        } else if constexpr (std::is_same_v<T, CondResult>) {
          w.varint(msg.id);
          w.bytes(msg.responder);
          w.u8(static_cast<uint8_t>(msg.outcome));
          write_version(w, msg.version);
          w.varint(msg.expires_us);
          w.u8(static_cast<uint8_t>(msg.code));
          w.bytes(msg.error);
        } else if constexpr (std::is_same_v<T, ListKeys>) {
          w.varint(msg.id);
          w.bytes(msg.origin);
          w.bytes(msg.prefix);
          w.bytes(msg.after);
          w.varint(msg.limit);
          w.boolean(msg.values);
        } else if constexpr (std::is_same_v<T, ListKeysReply>) {
          w.varint(msg.id);
          w.bytes(msg.responder);
          w.boolean(msg.more);
          w.varint(msg.records.size());
          for (const ListedRecord& e : msg.records) {
            w.bytes(e.key);
            w.u8(static_cast<uint8_t>(e.kind));
            write_version(w, e.version);
            w.varint(e.size);
            w.varint(e.expires_us);
            write_content(w, e.content);
            w.bytes(e.value);
          }
        } else if constexpr (std::is_same_v<T, InvalidateAck>) {
          w.bytes(msg.member);
          w.varint(msg.log_id);
          w.varint(msg.applied);
        } else if constexpr (std::is_same_v<T, InvalidateReset>) {
          w.bytes(msg.origin);
          w.varint(msg.log_id);
          w.varint(msg.head);
        } else if constexpr (std::is_same_v<T, Query>) {
          w.varint(msg.id);
          w.bytes(msg.key);
        } else if constexpr (std::is_same_v<T, QueryReply>) {
          w.varint(msg.id);
          w.bytes(msg.responder);
          if (typed(msg)) {  // kTypedQueryReply (see type_of)
            write_version(w, msg.version);
            w.varint(msg.expires_us);
            write_content(w, msg.content);
            w.bytes(msg.value);
            return;
          }
          if (expiring(msg)) {  // kExpiringQueryReply (see type_of)
            write_version(w, msg.version);
            w.varint(msg.expires_us);
            w.bytes(msg.value);
            return;
          }
          w.u8(static_cast<uint8_t>(msg.answer));
          if (msg.answer != QueryAnswer::kNotFound) write_version(w, msg.version);
          if (msg.answer == QueryAnswer::kValue) w.bytes(msg.value);
        } else {
          static_assert(kAlwaysFalse<T>, "every message kind needs an encoding");
        }
      },
      m);
}

// A count of elements that follow, each at least `min_bytes` long: more than `max`, or
// more than the bytes left could hold, fails the reader (so nothing is reserved for it).
uint64_t read_count(ByteReader& r, size_t max, size_t min_bytes, const char* too_many,
                    const char* too_few_bytes) {
  const uint64_t count = r.varint();
  if (r.failed()) return 0;
  if (count > max) {
    r.fail(ErrorCode::kOversized, too_many);
    return 0;
  }
  if (count > r.remaining() / min_bytes) {
    r.fail(ErrorCode::kTruncated, too_few_bytes);
    return 0;
  }
  return count;
}

// A count of (key, version) entries, then the entries.
void read_entry_list(ByteReader& r, const DecodeLimits& limits, const char* too_many,
                     const char* too_few_bytes, std::vector<KeyVersion>& out) {
  const uint64_t count = read_count(r, limits.max_members, kMinEntryBytes, too_many, too_few_bytes);
  if (!r.failed()) read_entries(r, count, out);
}

// `count` tags (write_tag_list's).
Tags read_tag_list(ByteReader& r, uint64_t count) {
  if (r.failed()) return {};
  if (count > kMaxTags) {
    r.fail(ErrorCode::kOversized, "more tags than allowed");
    return {};
  }
  Tags tags(count);
  for (Tag& t : tags) {
    t.key = r.string(kMaxTagKeyBytes);
    t.value = r.string(kMaxTagValueBytes);
    if (r.failed()) return {};
  }
  if (!check_tags(tags).ok()) {
    r.fail(ErrorCode::kMalformed, "tags out of bounds or order");
    return {};
  }
  return tags;
}

std::string read_name(ByteReader& r) {
  std::string name = r.string(kMaxNameBytes);
  if (!r.failed() && name.empty()) r.fail(ErrorCode::kMalformed, "empty node name");
  return name;
}

MemberState read_state(ByteReader& r) {
  const uint8_t s = r.u8();
  if (s > static_cast<uint8_t>(MemberState::kLeft)) {
    r.fail(ErrorCode::kMalformed, "unknown member state");
    return MemberState::kAlive;
  }
  return static_cast<MemberState>(s);
}

// Suspect and Dead share one layout: incarnation, node, accuser.
template <class Verdict>
Verdict read_verdict(ByteReader& r) {
  Verdict m;
  m.incarnation = r.u32();
  m.node = read_name(r);
  m.from = read_name(r);
  return m;
}

Message decode_body(MessageType type, ByteReader& r, const DecodeLimits& limits) {
  switch (type) {
    case MessageType::kPing: {
      Ping m;
      m.seq = r.u32();
      m.target = read_name(r);
      return m;
    }
    case MessageType::kIndirectPing: {
      IndirectPing m;
      m.seq = r.u32();
      m.target = read_name(r);
      m.target_addr = r.address();
      m.want_nack = r.boolean();
      return m;
    }
    case MessageType::kAck:
      return Ack{r.u32()};
    case MessageType::kNack:
      return Nack{r.u32()};
    case MessageType::kAlive: {
      Alive m;
      m.incarnation = r.u32();
      m.node = read_name(r);
      m.addr = r.address();
      m.tags_said = !r.failed() && !r.at_end();  // not said before revision 5
      if (m.tags_said) m.tags = read_tag_list(r, r.varint());
      return m;
    }
    case MessageType::kSuspect:
      return read_verdict<Suspect>(r);
    case MessageType::kDead:
      return read_verdict<Dead>(r);
    case MessageType::kPushPull: {
      PushPull m;
      m.join = r.boolean();
      m.reply = r.boolean();
      m.sender = read_name(r);
      m.sender_addr = r.address();
      const uint64_t count = read_count(r, limits.max_members, kMinMemberRecordBytes,
                                        "push-pull holds more members than allowed",
                                        "push-pull member count exceeds its bytes");
      if (r.failed()) return m;
      m.members.reserve(count);
      for (uint64_t i = 0; i < count && !r.failed(); ++i) {
        MemberRecord rec;
        rec.name = read_name(r);
        rec.addr = r.address();
        rec.incarnation = r.u32();
        rec.state = read_state(r);
        m.members.push_back(std::move(rec));
      }
      for (MemberRecord& rec : m.members)
        rec.tags_said = false;
      if (r.failed() || r.at_end()) return m;  // no tags said (revision < 5)
      if (r.varint() != m.members.size()) {
        r.fail(ErrorCode::kMalformed, "push-pull tags do not match its members");
        return m;
      }
      bool any_said = false;
      for (MemberRecord& rec : m.members) {
        if (r.failed()) break;
        const uint64_t said_count = r.varint();
        rec.tags_said = said_count != 0;
        if (rec.tags_said) rec.tags = read_tag_list(r, said_count - 1);
        any_said = any_said || rec.tags_said;
      }
      if (!r.failed() && !any_said) {
        r.fail(ErrorCode::kMalformed, "push-pull tags section says no member's tags");
      }
      return m;
    }
    case MessageType::kInvalidate: {
      Invalidate m;
      m.origin = read_name(r);
      m.log_id = r.varint();
      m.first_seq = r.varint();
      const uint64_t count = read_count(r, limits.max_members, kMinEntryBytes,
                                        "invalidation holds more entries than allowed",
                                        "invalidation entry count exceeds its bytes");
      if (r.failed()) return m;
      if (m.first_seq == 0 || m.first_seq + count < m.first_seq) {
        r.fail(ErrorCode::kMalformed, "invalidation sequence numbers out of range");
        return m;
      }
      read_entries(r, count, m.entries);
      if (r.failed() || r.at_end() || count == 0) return m;  // not said (revision < 4)
      m.writes.reserve(count);
      for (uint64_t i = 0; i < count && !r.failed(); ++i) {
        EntryWrite e;
        const uint8_t kind = r.u8();
        if (!r.failed() && kind >= kEntryKindCount) {
          r.fail(ErrorCode::kMalformed, "unknown invalidation entry kind");
          return m;
        }
        e.kind = static_cast<EntryKind>(kind);
        if (e.kind == EntryKind::kPut) e.expires_us = r.varint();
        m.writes.push_back(e);
      }
      return m;
    }
    case MessageType::kNewer: {
      Newer m;
      read_entry_list(r, limits, "newer-versions message holds more entries than allowed",
                      "newer-versions entry count exceeds its bytes", m.entries);
      return m;
    }
    case MessageType::kCollectCheck: {
      CollectCheck m;
      m.origin = read_name(r);
      m.round = r.varint();
      read_entry_list(r, limits, "collection check holds more entries than allowed",
                      "collection check entry count exceeds its bytes", m.entries);
      return m;
    }
    case MessageType::kCollectAck: {
      CollectAck m;
      m.member = read_name(r);
      m.round = r.varint();
      m.clean = r.boolean();
      return m;
    }
    case MessageType::kCondWrite: {
      CondWrite m;
      m.id = r.varint();
      m.origin = read_name(r);
      m.key = read_key(r);
      m.erase = r.boolean();
      const uint8_t kind = r.u8();
      if (kind == 0 || kind >= kWriteConditionKindCount) {
        r.fail(ErrorCode::kMalformed, "unknown write condition");
        return m;
      }
      m.condition.kind = static_cast<WriteCondition::Kind>(kind);
      const uint64_t count =
          read_count(r, WriteCondition::kMaxVersions, 3, "write condition lists too many versions",
                     "write condition version count exceeds its bytes");
      for (uint64_t i = 0; i < count && !r.failed(); ++i)
        m.condition.versions.push_back(read_version(r));
      m.ttl_us = r.varint();
      m.content = read_content(r);
      m.value = r.string(r.remaining());
      if (m.erase && (!m.value.empty() || !m.content.empty()))
        r.fail(ErrorCode::kMalformed, "a delete carries no value");
      return m;
    }
    case MessageType::kCondResult: {
      CondResult m;
      m.id = r.varint();
      m.responder = read_name(r);
      const uint8_t outcome = r.u8();
      if (outcome >= kCondOutcomeCount) {
        r.fail(ErrorCode::kMalformed, "unknown conditional write outcome");
        return m;
      }
      m.outcome = static_cast<CondResult::Outcome>(outcome);
      m.version = read_version(r);
      m.expires_us = r.varint();
      const uint8_t code = r.u8();
      if (code >= kErrorCodeCount) {
        r.fail(ErrorCode::kMalformed, "unknown error code");
        return m;
      }
      m.code = static_cast<ErrorCode>(code);
      m.error = r.string(1024);
      return m;
    }
    case MessageType::kListKeys: {
      ListKeys m;
      m.id = r.varint();
      m.origin = read_name(r);
      m.prefix = r.string(kMaxKeyBytes);
      m.after = r.string(kMaxKeyBytes);
      m.limit = r.u32();
      m.values = r.boolean();
      return m;
    }
    case MessageType::kListKeysReply: {
      ListKeysReply m;
      m.id = r.varint();
      m.responder = read_name(r);
      m.more = r.boolean();
      const uint64_t count = read_count(r, limits.max_members, kMinEntryBytes + 6,
                                        "listing holds more records than allowed",
                                        "listing record count exceeds its bytes");
      m.records.reserve(count);
      for (uint64_t i = 0; i < count && !r.failed(); ++i) {
        ListedRecord e;
        e.key = read_key(r);
        const uint8_t kind = r.u8();
        if (kind == static_cast<uint8_t>(QueryAnswer::kNotFound) ||
            kind > static_cast<uint8_t>(QueryAnswer::kInvalidated)) {
          r.fail(ErrorCode::kMalformed, "unknown listed record kind");
          return m;
        }
        e.kind = static_cast<QueryAnswer>(kind);
        e.version = read_version(r);
        e.size = r.varint();
        e.expires_us = r.varint();
        e.content = read_content(r);
        e.value = r.string(r.remaining());
        if (!r.failed() && e.kind != QueryAnswer::kValue &&
            (!e.value.empty() || !e.content.empty())) {
          r.fail(ErrorCode::kMalformed, "a listed tombstone or marker carries a value");
        }
        m.records.push_back(std::move(e));
      }
      return m;
    }
    case MessageType::kInvalidateAck: {
      InvalidateAck m;
      m.member = read_name(r);
      m.log_id = r.varint();
      m.applied = r.varint();
      return m;
    }
    case MessageType::kInvalidateReset: {
      InvalidateReset m;
      m.origin = read_name(r);
      m.log_id = r.varint();
      m.head = r.varint();
      return m;
    }
    case MessageType::kQuery: {
      Query m;
      m.id = r.varint();
      m.key = read_key(r);
      return m;
    }
    case MessageType::kQueryReply: {
      QueryReply m;
      m.id = r.varint();
      m.responder = read_name(r);
      const uint8_t answer = r.u8();
      if (answer > static_cast<uint8_t>(QueryAnswer::kInvalidated)) {
        r.fail(ErrorCode::kMalformed, "unknown query answer");
        return m;
      }
      m.answer = static_cast<QueryAnswer>(answer);
      if (m.answer != QueryAnswer::kNotFound) m.version = read_version(r);
      if (m.answer == QueryAnswer::kValue) m.value = r.string(r.remaining());
      return m;
    }
    case MessageType::kExpiringQueryReply:
    case MessageType::kTypedQueryReply: {
      // A value with an expiry; or with a content type (and an expiry or none).
      const bool typed = type == MessageType::kTypedQueryReply;
      QueryReply m;
      m.id = r.varint();
      m.responder = read_name(r);
      m.answer = QueryAnswer::kValue;
      m.version = read_version(r);
      m.expires_us = r.varint();
      if (typed) m.content = read_content(r);
      if (!r.failed() && !typed && m.expires_us == 0)
        r.fail(ErrorCode::kMalformed, "an expiring value without expiry");
      if (!r.failed() && typed && m.content.empty())
        r.fail(ErrorCode::kMalformed, "a typed value without a content type");
      m.value = r.string(r.remaining());
      return m;
    }
  }
  r.fail(ErrorCode::kUnknownType, "unknown message type");
  return Ack{};
}

bool known_type(uint8_t t) {
  return t >= static_cast<uint8_t>(MessageType::kPing) &&
         t <= static_cast<uint8_t>(kLastMessageType);
}

Status check_header(std::span<const uint8_t> bytes, size_t max_bytes) {
  if (bytes.size() > max_bytes) return Error{ErrorCode::kOversized, "packet over size limit"};
  if (bytes.empty()) return Error{ErrorCode::kTruncated, "empty packet"};
  if (wire_generation(bytes[0]) != wire_generation(kWireVersion) || wire_revision(bytes[0]) == 0) {
    return Error{ErrorCode::kUnsupportedVersion,
                 "wire version " + std::to_string(bytes[0]) + ", expected generation " +
                     std::to_string(wire_generation(kWireVersion)) + " (version " +
                     std::to_string(kWireVersion) + " or a later revision of it)"};
  }
  return {};
}

}  // namespace

MessageType type_of(const Message& m) {
  if (const auto* reply = std::get_if<QueryReply>(&m); reply != nullptr) {
    if (typed(*reply)) return MessageType::kTypedQueryReply;
    if (expiring(*reply)) return MessageType::kExpiringQueryReply;
  }
  if (std::holds_alternative<CollectCheck>(m)) return MessageType::kCollectCheck;
  if (std::holds_alternative<CollectAck>(m)) return MessageType::kCollectAck;
  if (std::holds_alternative<CondWrite>(m)) return MessageType::kCondWrite;
  if (std::holds_alternative<CondResult>(m)) return MessageType::kCondResult;
  if (std::holds_alternative<ListKeys>(m)) return MessageType::kListKeys;
  if (std::holds_alternative<ListKeysReply>(m)) return MessageType::kListKeysReply;
  return static_cast<MessageType>(m.index() + static_cast<size_t>(MessageType::kPing));
}
static_assert(std::is_same_v<std::variant_alternative_t<0, Message>, Ping> &&
                  std::is_same_v<std::variant_alternative_t<7, Message>, PushPull> &&
                  std::is_same_v<std::variant_alternative_t<12, Message>, QueryReply> &&
                  std::is_same_v<std::variant_alternative_t<13, Message>, Newer>,
              "type_of relies on the variant order matching MessageType");

void begin_packet(std::vector<uint8_t>& out) {
  out.clear();
  out.push_back(kWireVersion);
}

void append_frame(std::vector<uint8_t>& out, const Message& m) {
  out.push_back(static_cast<uint8_t>(type_of(m)));
  const size_t length_at = out.size();
  out.push_back(0);  // one-byte length placeholder; widened below when needed
  ByteWriter w(out);
  encode_body(w, m);
  const size_t body = out.size() - length_at - 1;
  const size_t width = varint_size(body);
  if (width > 1) out.insert(out.begin() + static_cast<ptrdiff_t>(length_at) + 1, width - 1, 0);
  size_t v = body;
  for (size_t i = 0; i < width; ++i) {
    out[length_at + i] = static_cast<uint8_t>((v & 0x7f) | (i + 1 < width ? 0x80 : 0));
    v >>= 7;
  }
}

std::vector<uint8_t> encode_packet(std::span<const Message> messages) {
  std::vector<uint8_t> out;
  begin_packet(out);
  for (const Message& m : messages)
    append_frame(out, m);
  return out;
}

Status decode_packet(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                     std::vector<Message>& out) {
  out.clear();
  if (Status s = check_header(bytes, limits.max_packet_bytes); !s.ok()) return s;
  // A later revision's additions are skipped; our own revision must hold nothing unknown.
  const bool newer = wire_revision(bytes[0]) > wire_revision(kWireVersion);
  ByteReader r(bytes.subspan(1));
  if (r.at_end()) return Error{ErrorCode::kTruncated, "packet holds no message"};
  size_t frames = 0;
  while (!r.at_end()) {
    const uint8_t type = r.u8();
    const uint64_t length = r.varint();
    if (r.failed()) break;
    if (++frames > limits.max_frames) {
      out.clear();
      return Error{ErrorCode::kOversized, "packet holds more messages than allowed"};
    }
    if (!known_type(type)) {
      if (newer) {
        r.take(length);
        if (r.failed()) break;
        continue;
      }
      out.clear();
      return Error{ErrorCode::kUnknownType, "unknown message type " + std::to_string(type)};
    }
    ByteReader body = r.take(length);
    if (r.failed()) break;
    Message m = decode_body(static_cast<MessageType>(type), body, limits);
    if (body.failed()) {
      out.clear();
      return body.error();
    }
    if (!body.at_end() && !newer) {
      out.clear();
      return Error{ErrorCode::kMalformed, "trailing bytes inside a frame"};
    }
    out.push_back(std::move(m));
  }
  if (r.failed()) {
    out.clear();
    return r.error();
  }
  CKV_ASSERT(out.size() <= limits.max_frames, "no more messages than the frame limit");
  if (out.empty()) return Error{ErrorCode::kMalformed, "packet holds no message this build knows"};
  return {};
}

Status for_each_frame(std::span<const uint8_t> packet,
                      const std::function<void(uint8_t type, size_t frame_bytes)>& visit) {
  if (Status s = check_header(packet, SIZE_MAX); !s.ok()) return s;
  ByteReader r(packet.subspan(1));
  while (!r.at_end()) {
    const size_t before = r.remaining();
    const uint8_t type = r.u8();
    const uint64_t length = r.varint();
    r.take(length);
    if (r.failed()) return r.error();
    visit(type, before - r.remaining());
  }
  return {};
}

constexpr auto kMemberStateNames = name_table({"alive", "suspect", "dead", "left"});
static_assert(kMemberStateNames.size() == kMemberStateCount, "one name per value");

const char* to_string(MemberState state) {
  return name_of(kMemberStateNames, state);
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::kPing:
      return "ping";
    case MessageType::kIndirectPing:
      return "indirect-ping";
    case MessageType::kAck:
      return "ack";
    case MessageType::kNack:
      return "nack";
    case MessageType::kAlive:
      return "alive";
    case MessageType::kSuspect:
      return "suspect";
    case MessageType::kDead:
      return "dead";
    case MessageType::kPushPull:
      return "push-pull";
    case MessageType::kInvalidate:
      return "invalidate";
    case MessageType::kInvalidateAck:
      return "invalidate-ack";
    case MessageType::kInvalidateReset:
      return "invalidate-reset";
    case MessageType::kQuery:
      return "query";
    case MessageType::kQueryReply:
      return "query-reply";
    case MessageType::kNewer:
      return "newer";
    case MessageType::kExpiringQueryReply:
      return "expiring-query-reply";
    case MessageType::kCollectCheck:
      return "collect-check";
    case MessageType::kCollectAck:
      return "collect-ack";
    case MessageType::kCondWrite:
      return "cond-write";
    case MessageType::kCondResult:
      return "cond-result";
    case MessageType::kListKeys:
      return "list-keys";
    case MessageType::kListKeysReply:
      return "list-keys-reply";
    case MessageType::kTypedQueryReply:
      return "typed-query-reply";
  }
  return "?";
}

std::string describe(const Message& m) {
  std::string out = to_string(type_of(m));
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, Ping>) {
          out += " seq=" + std::to_string(msg.seq) + " target=" + msg.target;
        } else if constexpr (std::is_same_v<T, IndirectPing>) {
          out += " seq=" + std::to_string(msg.seq) + " target=" + msg.target + "@" +
                 msg.target_addr.to_string() + (msg.want_nack ? " nack" : "");
        } else if constexpr (std::is_same_v<T, Ack> || std::is_same_v<T, Nack>) {
          out += " seq=" + std::to_string(msg.seq);
        } else if constexpr (std::is_same_v<T, Alive>) {
          out += " " + msg.node + "@" + msg.addr.to_string() +
                 " inc=" + std::to_string(msg.incarnation);
        } else if constexpr (std::is_same_v<T, Suspect> || std::is_same_v<T, Dead>) {
          out += " " + msg.node + " inc=" + std::to_string(msg.incarnation) + " from=" + msg.from;
        } else if constexpr (std::is_same_v<T, PushPull>) {
          out += std::string(msg.reply ? " reply" : " request") + (msg.join ? " join" : "") +
                 " from=" + msg.sender + " members=" + std::to_string(msg.members.size());
        } else if constexpr (std::is_same_v<T, Invalidate>) {
          out += " " + msg.origin + " log=" + std::to_string(msg.log_id) +
                 " seq=" + std::to_string(msg.first_seq) + "+" + std::to_string(msg.entries.size());
          if (!msg.entries.empty()) {
            out += " first=" + msg.entries[0].key + "@" + to_string(msg.entries[0].version) +
                   (msg.writes.empty()                         ? ""
                    : msg.writes[0].kind == EntryKind::kPut    ? " (put)"
                    : msg.writes[0].kind == EntryKind::kDelete ? " (delete)"
                                                               : " (unknown)");
          }
        } else if constexpr (std::is_same_v<T, InvalidateAck>) {
          out += " " + msg.member + " log=" + std::to_string(msg.log_id) +
                 " applied=" + std::to_string(msg.applied);
        } else if constexpr (std::is_same_v<T, InvalidateReset>) {
          out += " " + msg.origin + " log=" + std::to_string(msg.log_id) +
                 " head=" + std::to_string(msg.head);
        } else if constexpr (std::is_same_v<T, Query>) {
          out += " id=" + std::to_string(msg.id) + " key=" + msg.key;
        } else if constexpr (std::is_same_v<T, Newer> || std::is_same_v<T, CollectCheck>) {
          if constexpr (std::is_same_v<T, CollectCheck>) {
            out += " " + msg.origin + " round=" + std::to_string(msg.round);
          }
          out += " entries=" + std::to_string(msg.entries.size());
          if (!msg.entries.empty()) {
            out += " first=" + msg.entries[0].key + "@" + to_string(msg.entries[0].version);
          }
        } else if constexpr (std::is_same_v<T, CollectAck>) {
          out += " " + msg.member + " round=" + std::to_string(msg.round) +
                 (msg.clean ? " clean" : " refused");
        } else if constexpr (std::is_same_v<T, CondWrite>) {
          out += " id=" + std::to_string(msg.id) + " from=" + msg.origin + " key=" + msg.key +
                 (msg.erase ? " delete" : " put") +
                 " if=" + std::to_string(static_cast<int>(msg.condition.kind)) +
                 " versions=" + std::to_string(msg.condition.versions.size()) +
                 " bytes=" + std::to_string(msg.value.size());
        } else if constexpr (std::is_same_v<T, ListKeys>) {
          out += " id=" + std::to_string(msg.id) + " from=" + msg.origin + " prefix=" + msg.prefix +
                 " after=" + msg.after + " limit=" + std::to_string(msg.limit);
        } else if constexpr (std::is_same_v<T, ListKeysReply>) {
          out += " id=" + std::to_string(msg.id) + " from=" + msg.responder +
                 " records=" + std::to_string(msg.records.size()) + (msg.more ? " more" : "");
        } else if constexpr (std::is_same_v<T, CondResult>) {
          static const char* outcomes[] = {"written", "failed", "error"};
          out += " id=" + std::to_string(msg.id) + " from=" + msg.responder + " " +
                 outcomes[static_cast<size_t>(msg.outcome)] + " " + to_string(msg.version);
        } else {
          static const char* answers[] = {"not-found", "value", "tombstone", "invalidated"};
          out += " id=" + std::to_string(msg.id) + " from=" + msg.responder + " " +
                 answers[static_cast<size_t>(msg.answer)] + " " + to_string(msg.version) +
                 " bytes=" + std::to_string(msg.value.size());
        }
      },
      m);
  return out;
}

}  // namespace ckv::wire
