#include "kernel/record/record_fields.h"

namespace ckv::record {

namespace {
constexpr size_t kMaxString = size_t{64} << 20;
constexpr size_t kMaxItems = size_t{1} << 24;

uint64_t bits(int64_t v) {
  return static_cast<uint64_t>(v);
}
int64_t signed_of(uint64_t v) {
  return static_cast<int64_t>(v);
}
}  // namespace

void put_now(wire::ByteWriter& w, Now now) {
  w.varint(bits(now.mono.time_since_epoch().count()));
  w.varint(bits(now.wall.time_since_epoch().count()));
}

Now get_now(wire::ByteReader& r) {
  Now now;
  now.mono = MonoTime(Duration(signed_of(r.varint())));
  now.wall = WallTime(Duration(signed_of(r.varint())));
  return now;
}

void put_duration(wire::ByteWriter& w, std::optional<Duration> d) {
  w.boolean(d.has_value());
  if (d) w.varint(bits(d->count()));
}

std::optional<Duration> get_duration(wire::ByteReader& r) {
  if (!r.boolean()) return std::nullopt;
  return Duration(signed_of(r.varint()));
}

void put_content(wire::ByteWriter& w, const ContentType& c) {
  w.bytes(c.media);
  w.bytes(c.encoding);
}

ContentType get_content(wire::ByteReader& r) {
  ContentType c;
  c.media = r.string(kMaxString);
  c.encoding = r.string(kMaxString);
  return c;
}

void put_version(wire::ByteWriter& w, const Version& v) {
  w.varint(v.wall_us);
  w.varint(v.logical);
  w.varint(v.node);
}

Version get_version(wire::ByteReader& r) {
  Version v;
  v.wall_us = r.varint();
  v.logical = r.u32();
  v.node = r.varint();
  return v;
}

void put_condition(wire::ByteWriter& w, const WriteCondition& c) {
  w.u8(static_cast<uint8_t>(c.kind));
  w.varint(c.versions.size());
  for (const Version& v : c.versions)
    put_version(w, v);
}

WriteCondition get_condition(wire::ByteReader& r) {
  WriteCondition c;
  c.kind = static_cast<WriteCondition::Kind>(r.u8());
  for (uint64_t i = 0, n = r.varint(); i < n && !r.failed() && i < kMaxItems; ++i)
    c.versions.push_back(get_version(r));
  return c;
}

void put_tags(wire::ByteWriter& w, const wire::Tags& tags) {
  w.varint(tags.size());
  for (const wire::Tag& t : tags) {
    w.bytes(t.key);
    w.bytes(t.value);
  }
}

wire::Tags get_tags(wire::ByteReader& r) {
  wire::Tags tags;
  for (uint64_t i = 0, n = r.varint(); i < n && !r.failed() && i < kMaxItems; ++i) {
    wire::Tag t;
    t.key = r.string(kMaxString);
    t.value = r.string(kMaxString);
    tags.push_back(std::move(t));
  }
  return tags;
}

void put_error(wire::ByteWriter& w, const Error& e) {
  w.u8(static_cast<uint8_t>(e.code));
  w.bytes(e.detail);
}

Error get_error(wire::ByteReader& r) {
  Error e;
  e.code = static_cast<ErrorCode>(r.u8());
  e.detail = r.string(kMaxString);
  return e;
}

void put_status(wire::ByteWriter& w, const Status& s) {
  w.boolean(!s.ok());
  if (!s.ok()) put_error(w, s.error());
}

std::optional<Error> get_status(wire::ByteReader& r) {
  if (!r.boolean()) return std::nullopt;
  return get_error(r);
}

void put_record(wire::ByteWriter& w, const Record& rec) {
  w.u8(static_cast<uint8_t>(rec.kind));
  put_version(w, rec.version);
  w.varint(rec.validated_epoch);
  w.varint(rec.expires_us);
  put_content(w, rec.content);
  w.bytes(rec.value);
}

Record get_record(wire::ByteReader& r) {
  Record rec;
  rec.kind = static_cast<RecordKind>(r.u8());
  rec.version = get_version(r);
  rec.validated_epoch = r.varint();
  rec.expires_us = r.varint();
  rec.content = get_content(r);
  rec.value = r.string(kMaxString);
  return rec;
}

void put_change(wire::ByteWriter& w, const MemberChange& c) {
  w.varint(bits(c.at.time_since_epoch().count()));
  w.bytes(c.name);
  w.address(c.addr);
  w.u8(static_cast<uint8_t>(c.from_state));
  w.varint(c.from_incarnation);
  w.u8(static_cast<uint8_t>(c.to_state));
  w.varint(c.to_incarnation);
  w.boolean(c.is_new);
  w.boolean(c.reaped);
}

void put_send(wire::ByteWriter& w, const Send& s) {
  w.address(s.to);
  w.u8(static_cast<uint8_t>(s.channel));
  w.bytes(std::string_view(reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size()));
}

void put_reply(wire::ByteWriter& w, const Reply& reply) {
  w.varint(reply.request);
  w.u8(static_cast<uint8_t>(reply.op));
  w.u8(static_cast<uint8_t>(reply.status));
  put_version(w, reply.version);
  w.bytes(reply.value);
  w.bytes(reply.error);
  w.varint(reply.expires_us);
  put_content(w, reply.content);
  w.u8(static_cast<uint8_t>(reply.code));
  w.boolean(reply.remote);
  w.boolean(reply.current);
  w.varint(reply.keys.size());
  for (const ListedKey& k : reply.keys) {
    w.bytes(k.key);
    put_version(w, k.version);
    w.varint(k.size);
    w.varint(k.expires_us);
    w.bytes(k.value);
    put_content(w, k.content);
  }
  w.bytes(reply.next);
  w.varint(reply.rounds);
}

Reply get_reply(wire::ByteReader& r) {
  Reply reply;
  reply.request = r.varint();
  reply.op = static_cast<ClientOp>(r.u8());
  reply.status = static_cast<ReplyStatus>(r.u8());
  reply.version = get_version(r);
  reply.value = r.string(kMaxString);
  reply.error = r.string(kMaxString);
  reply.expires_us = r.varint();
  reply.content = get_content(r);
  reply.code = static_cast<ErrorCode>(r.u8());
  reply.remote = r.boolean();
  reply.current = r.boolean();
  for (uint64_t i = 0, n = r.varint(); i < n && !r.failed() && i < kMaxItems; ++i) {
    ListedKey k;
    k.key = r.string(kMaxString);
    k.version = get_version(r);
    k.size = r.varint();
    k.expires_us = r.varint();
    k.value = r.string(kMaxString);
    k.content = get_content(r);
    reply.keys.push_back(std::move(k));
  }
  reply.next = r.string(kMaxString);
  reply.rounds = r.u32();
  return reply;
}

void put_event(wire::ByteWriter& w, const ChangeEvent& e) {
  w.u8(static_cast<uint8_t>(e.kind));
  w.bytes(e.key);
  put_version(w, e.version);
}

namespace {

// Writes one item of a release as its length (8 bytes) and its encoding, so that a reader
// can hash the encoding without decoding it (the condenser does).
template <class Put, class T>
void put_item(wire::ByteWriter& w, std::vector<uint8_t>& out, Put put, const T& item) {
  const size_t at = out.size();
  w.fixed64(0);
  put(w, item);
  const uint64_t len = out.size() - at - 8;
  for (int i = 0; i < 8; ++i)
    out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(len >> (8 * i));
}

}  // namespace

void put_effects(wire::ByteWriter& w, std::vector<uint8_t>& out, const Effects& effects) {
  w.varint(effects.changes.size());
  for (const MemberChange& c : effects.changes)
    put_item(w, out, put_change, c);
  w.varint(effects.sends.size());
  for (const Send& s : effects.sends)
    put_item(w, out, put_send, s);
  w.varint(effects.replies.size());
  for (const Reply& reply : effects.replies)
    put_item(w, out, put_reply, reply);
  w.varint(effects.events.size());
  for (const ChangeEvent& e : effects.events)
    put_item(w, out, put_event, e);
}

std::span<const uint8_t> get_item(wire::ByteReader& r) {
  const uint64_t len = r.fixed64();
  wire::ByteReader item = r.take(len);
  const std::string_view bytes = item.rest();
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

MemberChange get_change(wire::ByteReader& r) {
  MemberChange c;
  c.at = MonoTime(Duration(signed_of(r.varint())));
  c.name = r.string(kMaxString);
  c.addr = r.address();
  c.from_state = static_cast<MemberState>(r.u8());
  c.from_incarnation = r.u32();
  c.to_state = static_cast<MemberState>(r.u8());
  c.to_incarnation = r.u32();
  c.is_new = r.boolean();
  c.reaped = r.boolean();
  return c;
}

Send get_send(wire::ByteReader& r) {
  Send s;
  s.to = r.address();
  s.channel = static_cast<Channel>(r.u8());
  std::string bytes = r.string(kMaxString);
  s.bytes.assign(bytes.begin(), bytes.end());
  return s;
}

ChangeEvent get_event(wire::ByteReader& r) {
  ChangeEvent e;
  e.kind = static_cast<ChangeEvent::Kind>(r.u8());
  e.key = r.string(kMaxString);
  e.version = get_version(r);
  return e;
}

void get_effects(wire::ByteReader& r, Effects& out) {
  auto each = [&](auto get, auto& into) {
    for (uint64_t i = 0, n = r.varint(); i < n && !r.failed() && i < kMaxItems; ++i) {
      const std::span<const uint8_t> bytes = get_item(r);
      wire::ByteReader item(bytes);
      into.push_back(get(item));
    }
  };
  each(get_change, out.changes);
  each(get_send, out.sends);
  each(get_reply, out.replies);
  each(get_event, out.events);
}

}  // namespace ckv::record
