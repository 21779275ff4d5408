#include "kernel/wire/codec.h"

#include <gtest/gtest.h>

#include <rapidcheck/gtest.h>
#include <algorithm>

#include <set>
#include <vector>

#include "tests/kernel/wire/message_gen.h"

namespace ckv::wire {
namespace {

using testing::gen_message;

Status decode(std::span<const uint8_t> bytes, std::vector<Message>& out) {
  return decode_packet(bytes, DecodeLimits{}, out);
}

RC_GTEST_PROP(Codec, EveryMessageRoundTrips, ()) {
  const auto messages = *rc::gen::nonEmpty(rc::gen::container<std::vector<Message>>(gen_message()));
  const std::vector<uint8_t> bytes = encode_packet(messages);
  std::vector<Message> decoded;
  const Status s = decode_packet(bytes, DecodeLimits{SIZE_MAX, SIZE_MAX}, decoded);
  RC_ASSERT(s.ok());
  RC_ASSERT(decoded == messages);
}

TEST(Codec, EachKindHasItsOwnTypeByte) {
  std::set<uint8_t> seen;
  const Message samples[] = {
      Ping{1, "a"},
      IndirectPing{1, "a", {}, true},
      Ack{1},
      Nack{1},
      Alive{1, "a", {}},
      Suspect{1, "a", "b"},
      Dead{1, "a", "a"},
      PushPull{},
      Invalidate{"a", 1, 1, {}},
      InvalidateAck{"a", 1, 1},
      InvalidateReset{"a", 1, 1},
      Query{1, "k"},
      QueryReply{1, "a"},
      Newer{},
      CollectCheck{"a", 1, {}},
      CollectAck{"a", 1, true},
      CondWrite{1, "a", "k", true, {WriteCondition::Kind::kAbsent, {}}},
      CondResult{1, "a"},
      ListKeys{1, "a", "p", "", 10},
      ListKeysReply{1, "a"},
      QueryReply{1, "a", QueryAnswer::kValue, {}, "v", 0, {"text/plain", ""}}};
  for (const Message& m : samples) {
    const auto bytes = encode_packet({&m, 1});
    ASSERT_GE(bytes.size(), 3u);
    EXPECT_EQ(bytes[0], kWireVersion);
    EXPECT_EQ(bytes[1], static_cast<uint8_t>(type_of(m)));
    seen.insert(bytes[1]);
  }
  EXPECT_EQ(seen.size(), std::size(samples));
}

// A packet cut short is an error, unless the cut falls exactly between two frames: then
// it is the packet of the frames before the cut.
RC_GTEST_PROP(Codec, TruncationIsAnErrorOrAWholeFramePrefix, ()) {
  const auto messages = *rc::gen::nonEmpty(rc::gen::container<std::vector<Message>>(gen_message()));
  const std::vector<uint8_t> bytes = encode_packet(messages);
  const size_t cut = *rc::gen::inRange<size_t>(0, bytes.size());
  std::vector<Message> decoded;
  const Status s = decode({bytes.data(), cut}, decoded);
  if (!s.ok()) {
    RC_ASSERT(decoded.empty());
    return;
  }
  RC_ASSERT(!decoded.empty());
  RC_ASSERT(decoded.size() < messages.size());
  RC_ASSERT(std::equal(decoded.begin(), decoded.end(), messages.begin()));
  RC_ASSERT(encode_packet(decoded).size() == cut);
}

TEST(Codec, EveryCutInsideAFrameIsAnError) {
  const Message messages[] = {
      Alive{3, "n2", {1, 2}},
      PushPull{true, false, "n1", {3, 4}, {{"n1", {3, 4}, 1, MemberState::kAlive}}}};
  const auto bytes = encode_packet(messages);
  const size_t boundary = encode_packet({messages, 1}).size();
  std::vector<Message> out;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const bool ok = decode({bytes.data(), cut}, out).ok();
    EXPECT_EQ(ok, cut == boundary) << "cut at " << cut;
  }
}

// What a packet that decoded must satisfy: a packet of our revision (or an earlier one,
// which ours extends) is exactly the encoding of its messages, but for the version byte
// (the format has one encoding per value); a later revision's may hold more (skipped),
// but what we took from it encodes to a packet of ours that decodes the same.
void check_canonical(const std::vector<uint8_t>& bytes, const std::vector<Message>& decoded) {
  const std::vector<uint8_t> ours = encode_packet(decoded);
  if (wire_revision(bytes[0]) <= wire_revision(kWireVersion)) {
    RC_ASSERT(ours.size() == bytes.size());
    RC_ASSERT(std::equal(ours.begin() + 1, ours.end(), bytes.begin() + 1));
  } else {
    std::vector<Message> again;
    RC_ASSERT(decode(ours, again).ok());
    RC_ASSERT(again == decoded);
  }
}

// Whatever bytes arrive, decoding ends in an error or in canonical messages (above). Run
// under ASan+UBSan, this also shows it never reads out of bounds.
RC_GTEST_PROP(Codec, ArbitraryBytesDecodeToErrorOrCanonicalMessages, (std::vector<uint8_t> bytes)) {
  std::vector<Message> decoded;
  if (decode(bytes, decoded).ok()) {
    check_canonical(bytes, decoded);
  } else {
    RC_ASSERT(decoded.empty());
  }
}

RC_GTEST_PROP(Codec, MutatedPacketsDecodeToErrorOrCanonicalMessages, ()) {
  const auto messages = *rc::gen::nonEmpty(rc::gen::container<std::vector<Message>>(gen_message()));
  std::vector<uint8_t> bytes = encode_packet(messages);
  const int edits = *rc::gen::inRange(1, 5);
  for (int i = 0; i < edits; ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        bytes[at] = *rc::gen::arbitrary<uint8_t>();
        break;
      case 1:
        bytes.erase(bytes.begin() + static_cast<ptrdiff_t>(at));
        break;
      default:
        bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(at), *rc::gen::arbitrary<uint8_t>());
    }
    if (bytes.empty()) break;
  }
  std::vector<Message> decoded;
  if (decode(bytes, decoded).ok()) check_canonical(bytes, decoded);
}

// A later revision of our generation may append fields to a frame and add frame types: we
// decode what we know and skip the rest. From our own revision, both are errors.
TEST(Codec, ALaterRevisionsAdditionsAreSkipped) {
  const uint8_t later = kWireVersion + 1;
  ASSERT_EQ(wire_generation(later), wire_generation(kWireVersion));
  // An ack (type 3) of seq 5 with two appended bytes, a frame of an unknown type, another
  // ack as it is today.
  const std::vector<uint8_t> bytes{later, 3, 3, 5, 0xaa, 0xbb, 99, 2, 1, 2, 3, 1, 6};
  std::vector<Message> out;
  ASSERT_TRUE(decode(bytes, out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<Ack>(out[0]).seq, 5u);
  EXPECT_EQ(std::get<Ack>(out[1]).seq, 6u);
  // Framing stays strict: an unknown frame longer than the packet, too many frames.
  EXPECT_FALSE(decode(std::vector<uint8_t>{later, 99, 5, 1}, out).ok());
  std::vector<uint8_t> many{later};
  for (int i = 0; i < 300; ++i)
    many.insert(many.end(), {99, 0});
  EXPECT_EQ(decode(many, out).error().code, ErrorCode::kOversized);
  // A packet of nothing but frames we do not know gives us nothing: an error.
  EXPECT_FALSE(decode(std::vector<uint8_t>{later, 99, 0}, out).ok());
  // The same additions in a packet of our own revision are errors.
  std::vector<uint8_t> own = bytes;
  own[0] = kWireVersion;
  EXPECT_FALSE(decode(own, out).ok());
}

TEST(Codec, RejectsWithTheRightErrors) {
  std::vector<Message> out;
  auto code = [&](std::vector<uint8_t> bytes) {
    Status s = decode(bytes, out);
    EXPECT_FALSE(s.ok());
    return s.ok() ? ErrorCode::kInvalidArgument : s.error().code;
  };
  EXPECT_EQ(code({}), ErrorCode::kTruncated);
  EXPECT_EQ(code({kWireVersion}), ErrorCode::kTruncated);
  EXPECT_EQ(code({0x11, 3, 1, 0}), ErrorCode::kUnsupportedVersion);  // another generation
  EXPECT_EQ(code({0x00, 3, 1, 0}), ErrorCode::kUnsupportedVersion);  // revision 0
  EXPECT_EQ(code({kWireVersion, 99, 0}), ErrorCode::kUnknownType);
  EXPECT_EQ(code({kWireVersion, 3, 5, 1}), ErrorCode::kTruncated);           // frame says 5 bytes
  EXPECT_EQ(code({kWireVersion, 3, 2, 1, 7}), ErrorCode::kMalformed);        // trailing byte
  EXPECT_EQ(code({kWireVersion, 3, 2, 0x81, 0x00}), ErrorCode::kMalformed);  // padded varint
  EXPECT_EQ(code({kWireVersion, 1, 2, 1, 0}), ErrorCode::kMalformed);        // empty name
  // A varint that does not fit 64 bits.
  EXPECT_EQ(
      code({kWireVersion, 3, 11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0}),
      ErrorCode::kMalformed);
  // An ack seq over 32 bits.
  EXPECT_EQ(code({kWireVersion, 3, 5, 0x80, 0x80, 0x80, 0x80, 0x10}), ErrorCode::kMalformed);
}

TEST(Codec, RefusesOversizedPacketsAndNamesAndCounts) {
  std::vector<Message> out;
  std::vector<uint8_t> big(100, 0);
  big[0] = kWireVersion;
  Status s = decode_packet(big, DecodeLimits{64, 10}, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kOversized);

  // A name of 256 bytes.
  const Message ping = Ping{1, std::string(256, 'x')};
  s = decode(encode_packet({&ping, 1}), out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kOversized);

  // A push-pull claiming more members than allowed, or than its bytes could hold.
  PushPull pp{false, false, "a", {}, {}};
  for (int i = 0; i < 11; ++i)
    pp.members.push_back({"m" + std::to_string(i), {}, 1, MemberState::kAlive});
  const Message many = pp;
  s = decode_packet(encode_packet({&many, 1}), DecodeLimits{1 << 20, 10}, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kOversized);
  // count 0x7fffffff, followed by nothing
  std::vector<uint8_t> liar = {kWireVersion, 8,    13,   0,    0,   1, 'a', 4, 0, 0, 0, 0, 0, 0,
                               0xff,         0xff, 0xff, 0xff, 0x07};
  liar[2] = static_cast<uint8_t>(liar.size() - 3);
  s = decode(liar, out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().code, ErrorCode::kUnknownType);
}

TEST(Codec, RefusesBadKeyValueFrames) {
  auto decode_one = [](const Message& m) {
    std::vector<Message> out;
    const auto bytes = encode_packet({&m, 1});
    return decode_packet(bytes, DecodeLimits{}, out);
  };
  EXPECT_EQ(decode_one(Query{1, ""}).error().code, ErrorCode::kMalformed);  // empty key
  EXPECT_EQ(decode_one(Query{1, std::string(kMaxKeyBytes + 1, 'k')}).error().code,
            ErrorCode::kOversized);
  EXPECT_EQ(decode_one(Invalidate{"a", 1, 0, {{"k", {}}}}).error().code,
            ErrorCode::kMalformed);  // sequence numbers start at 1
  EXPECT_EQ(decode_one(Invalidate{"a", 1, UINT64_MAX, {{"k", {}}, {"j", {}}}}).error().code,
            ErrorCode::kMalformed);  // they would wrap
  // An entry count the bytes cannot hold is refused before anything is reserved.
  std::vector<uint8_t> bytes = encode_packet(std::vector<Message>{Invalidate{"a", 1, 1, {}}});
  bytes.back() = 0x7f;  // 127 entries in a frame with no room for any
  std::vector<Message> out;
  EXPECT_FALSE(decode_packet(bytes, DecodeLimits{}, out).ok());
}

// A content type goes back into a response header as it came: one that could break the
// header (a line break), or run past its limit, is refused wherever it travels.
TEST(Codec, RefusesContentTypesThatCouldNotBeHeaders) {
  auto decode_one = [](const Message& m) {
    std::vector<Message> out;
    return decode_packet(encode_packet({&m, 1}), DecodeLimits{}, out);
  };
  const ContentType injected{"text/plain\r\nSet-Cookie: a=b", ""};
  const ContentType too_long{std::string(kMaxContentTypeBytes + 1, 'a'), ""};
  const ContentType padded{" text/plain", ""};
  for (const ContentType& bad : {injected, too_long, padded}) {
    QueryReply reply{1, "a", QueryAnswer::kValue, {1, 0, 1}, "v", 0, bad};
    EXPECT_FALSE(decode_one(reply).ok()) << bad.media;
    CondWrite write{1, "a", "k", false, {WriteCondition::Kind::kAbsent, {}}, 0, bad, "v"};
    EXPECT_FALSE(decode_one(write).ok()) << bad.media;
    ListKeysReply listed{
        1, "a", false, {ListedRecord{"k", QueryAnswer::kValue, {}, 1, 0, bad, "v"}}};
    EXPECT_FALSE(decode_one(listed).ok()) << bad.media;
  }
  // Inner blanks are fine: "text/plain; charset=utf-8".
  QueryReply fine{
      1, "a", QueryAnswer::kValue, {1, 0, 1}, "v", 7, {"text/plain; charset=utf-8", "gzip"}};
  std::vector<Message> out;
  const Message typed = fine;
  ASSERT_TRUE(decode_packet(encode_packet({&typed, 1}), DecodeLimits{}, out).ok());
  EXPECT_EQ(std::get<QueryReply>(out.at(0)), fine);
  // A delete carries no content type; a tombstone listed carries no value.
  CondWrite erase{1, "a", "k", true, {WriteCondition::Kind::kExists, {}}, 0, {"text/plain", ""}};
  EXPECT_EQ(decode_one(erase).error().code, ErrorCode::kMalformed);
  ListKeysReply tombstone{
      1, "a", false, {ListedRecord{"k", QueryAnswer::kTombstone, {}, 0, 0, {}, "stale"}}};
  EXPECT_EQ(decode_one(tombstone).error().code, ErrorCode::kMalformed);
}

TEST(Codec, RefusesPacketsWithTooManyMessages) {
  std::vector<Message> acks(11, Ack{1});
  std::vector<Message> out;
  DecodeLimits limits;
  limits.max_frames = 10;
  Status s = decode_packet(encode_packet(acks), limits, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kOversized);
  acks.pop_back();
  EXPECT_TRUE(decode_packet(encode_packet(acks), limits, out).ok());
}

TEST(Codec, ForEachFrameWalksFramesWithoutDecoding) {
  const Message messages[] = {Ping{7, "n1"}, Alive{3, "n2", {1, 2}}, Ack{9}};
  const auto bytes = encode_packet(messages);
  std::vector<uint8_t> types;
  size_t total = 1;
  ASSERT_TRUE(for_each_frame(bytes, [&](uint8_t t, size_t n) {
                types.push_back(t);
                total += n;
              }).ok());
  EXPECT_EQ(types, (std::vector<uint8_t>{1, 5, 3}));
  EXPECT_EQ(total, bytes.size());
}

}  // namespace
}  // namespace ckv::wire

namespace ckv::wire {
namespace {

// Tags came in revision 5, at the ends of Alive and PushPull: a revision-4 packet (without
// them) still decodes, as tagless; and they round-trip.
TEST(CodecTags, RevisionFourAliveAndPushPullDecodeWithoutTags) {
  const Message tagged[] = {
      Alive{3, "n2", {1, 2}, {{"role", "db"}}},
      PushPull{false,
               true,
               "n1",
               {1, 1},
               {MemberRecord{"n2", {1, 2}, 3, MemberState::kAlive, {{"az", "z"}}}}}};
  std::vector<Message> both;
  ASSERT_TRUE(decode(encode_packet(tagged), both).ok());
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0], tagged[0]);
  EXPECT_EQ(both[1], tagged[1]);
  // The same frames as revision 4 wrote them: everything up to the tags.
  const Message untagged[] = {Alive{3, "n2", {1, 2}}};
  std::vector<uint8_t> old = encode_packet(untagged);
  old[0] = 0x04;
  old.pop_back();  // the tags' field (1: said, none)
  old[2] -= 1;     // the frame's length
  std::vector<Message> decoded;
  const Status s = decode(old, decoded);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  ASSERT_EQ(decoded.size(), 1u);
  const Alive& alive = std::get<Alive>(decoded[0]);
  EXPECT_EQ(alive.node, "n2");
  EXPECT_TRUE(alive.tags.empty());
  EXPECT_FALSE(alive.tags_said);  // an older node said nothing of the tags
  // A copy relayed by a node that did not know them says so on the wire too.
  const Message relayed[] = {Alive{3, "n2", {1, 2}, {}, false}};
  std::vector<Message> back;
  ASSERT_TRUE(decode(encode_packet(relayed), back).ok());
  EXPECT_EQ(back[0], relayed[0]);
}

TEST(CodecTags, APushPullSaysTagsOnlyWhenItKnowsSome) {
  const MemberRecord unknown{"n2", {1, 2}, 3, MemberState::kAlive, {}, /*tags_said=*/false};
  const Message none[] = {PushPull{false, true, "n1", {1, 1}, {unknown}}};
  const Message some[] = {PushPull{
      false, true, "n1", {1, 1}, {unknown, MemberRecord{"n3", {1, 3}, 1, MemberState::kAlive}}}};
  std::vector<Message> out;
  ASSERT_TRUE(decode(encode_packet(none), out).ok());
  EXPECT_EQ(out[0], none[0]);
  ASSERT_TRUE(decode(encode_packet(some), out).ok());
  EXPECT_EQ(out[0], some[0]);
  // The section is left out when it would say nothing: one that says nothing is malformed
  // (the same message would have two encodings).
  std::vector<uint8_t> bytes = encode_packet(none);
  bytes.push_back(1);  // a section of one record...
  bytes.push_back(0);  // ...whose tags are not said
  bytes[2] += 2;       // the frame's length
  EXPECT_FALSE(decode(bytes, out).ok());
}

TEST(CodecTags, TagsOutOfBoundsAreMalformed) {
  const Message unsorted[] = {Alive{3, "n2", {1, 2}, {{"b", ""}, {"a", ""}}}};
  std::vector<Message> out;
  EXPECT_FALSE(decode(encode_packet(unsorted), out).ok());
  const Message bad_key[] = {Alive{3, "n2", {1, 2}, {{"a b", ""}}}};
  EXPECT_FALSE(decode(encode_packet(bad_key), out).ok());
}

}  // namespace
}  // namespace ckv::wire
