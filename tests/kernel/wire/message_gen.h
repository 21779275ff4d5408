// rapidcheck generators for wire messages, shared by the codec tests.
#pragma once

#include <rapidcheck.h>

#include <map>
#include <string>

#include "kernel/wire/codec.h"
#include "kernel/wire/messages.h"

namespace ckv::wire::testing {

inline rc::Gen<std::string> gen_name() {
  return rc::gen::map(rc::gen::nonEmpty(rc::gen::string<std::string>()), [](std::string s) {
    if (s.size() > kMaxNameBytes) s.resize(kMaxNameBytes);
    return s;
  });
}

inline rc::Gen<Address> gen_address() {
  return rc::gen::map(rc::gen::pair(rc::gen::arbitrary<uint32_t>(), rc::gen::arbitrary<uint16_t>()),
                      [](std::pair<uint32_t, uint16_t> p) {
                        return Address{p.first, p.second};
                      });
}

inline rc::Gen<MemberState> gen_state() {
  return rc::gen::element(MemberState::kAlive, MemberState::kSuspect, MemberState::kDead,
                          MemberState::kLeft);
}

inline rc::Gen<std::string> gen_key() {
  return rc::gen::map(rc::gen::nonEmpty(rc::gen::string<std::string>()), [](std::string s) {
    if (s.size() > kMaxKeyBytes) s.resize(kMaxKeyBytes);
    return s;
  });
}

inline rc::Gen<Version> gen_version() {
  return rc::gen::map(rc::gen::tuple(rc::gen::arbitrary<uint64_t>(), rc::gen::arbitrary<uint32_t>(),
                                     rc::gen::arbitrary<uint64_t>()),
                      [](auto t) {
                        return Version{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
                      });
}

// A content-type field: empty, or printable ASCII (valid_content_field).
inline rc::Gen<std::string> gen_content_field() {
  using namespace rc;
  return gen::oneOf(
      gen::just(std::string()),
      gen::map(gen::nonEmpty(gen::container<std::string>(gen::inRange<char>(0x21, 0x7f))),
               [](std::string s) {
                 if (s.size() > kMaxContentTypeBytes) s.resize(kMaxContentTypeBytes);
                 return s;
               }));
}

inline rc::Gen<ContentType> gen_content() {
  return rc::gen::map(rc::gen::pair(gen_content_field(), gen_content_field()), [](auto p) {
    return ContentType{p.first, p.second};
  });
}

inline rc::Gen<ListedRecord> gen_listed_record() {
  using namespace rc;
  return gen::map(gen::tuple(gen_key(),
                             gen::element(QueryAnswer::kValue, QueryAnswer::kTombstone,
                                          QueryAnswer::kInvalidated),
                             gen_version(), gen::arbitrary<uint64_t>(), gen::arbitrary<uint64_t>(),
                             gen_content(), gen::string<std::string>()),
                  [](auto t) {
                    ListedRecord e{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t),
                                   std::get<4>(t)};
                    // Only a value carries its bytes and type (with values asked for).
                    if (e.kind == QueryAnswer::kValue) {
                      e.content = std::get<5>(t);
                      e.value = std::get<6>(t);
                    }
                    return e;
                  });
}

// The key-value messages, in canonical form (what a decoder gives back).
inline rc::Gen<Message> gen_kv_message() {
  using namespace rc;
  return gen::oneOf(
      gen::map(gen::tuple(gen_name(), gen::arbitrary<uint64_t>(),
                          gen::inRange<uint64_t>(1, uint64_t{1} << 62),
                          gen::container<std::vector<KeyVersion>>(
                              gen::map(gen::pair(gen_key(), gen_version()),
                                       [](auto p) {
                                         return KeyVersion{p.first, p.second};
                                       }))),
               [](auto t) -> Message {
                 Invalidate m{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t)};
                 // Revision 4 says what each entry's write was (from the ids: any pattern
                 // will do; a put's expiry taken from its version); an earlier sender
                 // says nothing.
                 if (std::get<1>(t) % 3 != 0) {
                   for (size_t i = 0; i < m.entries.size(); ++i) {
                     const auto kind =
                         static_cast<EntryKind>((std::get<1>(t) >> (2 * (i % 32))) % 3);
                     m.writes.push_back(EntryWrite{
                         kind, kind == EntryKind::kPut ? m.entries[i].version.wall_us : 0});
                   }
                 }
                 return m;
               }),
      gen::map(gen::tuple(gen_name(), gen::arbitrary<uint64_t>(), gen::arbitrary<uint64_t>()),
               [](auto t) -> Message {
                 return InvalidateAck{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
               }),
      gen::map(gen::tuple(gen_name(), gen::arbitrary<uint64_t>(),
                          gen::container<std::vector<KeyVersion>>(
                              gen::map(gen::pair(gen_key(), gen_version()),
                                       [](auto p) {
                                         return KeyVersion{p.first, p.second};
                                       }))),
               [](auto t) -> Message {
                 return CollectCheck{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
               }),
      gen::map(gen::tuple(gen_name(), gen::arbitrary<uint64_t>(), gen::arbitrary<bool>()),
               [](auto t) -> Message {
                 return CollectAck{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
               }),
      gen::map(gen::tuple(gen_name(), gen::arbitrary<uint64_t>(), gen::arbitrary<uint64_t>()),
               [](auto t) -> Message {
                 return InvalidateReset{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
               }),
      gen::map(gen::tuple(gen::arbitrary<uint64_t>(), gen_name(), gen_key(), gen::arbitrary<bool>(),
                          gen::inRange<uint8_t>(1, kWriteConditionKindCount),
                          gen::resize(WriteCondition::kMaxVersions,
                                      gen::container<std::vector<Version>>(gen_version())),
                          gen::arbitrary<uint64_t>(), gen::string<std::string>(), gen_content()),
               [](auto t) -> Message {
                 CondWrite m{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t)};
                 if (!m.erase) m.content = std::get<8>(t);
                 m.condition.kind = static_cast<WriteCondition::Kind>(std::get<4>(t));
                 m.condition.versions = std::get<5>(t);
                 if (m.condition.versions.size() > WriteCondition::kMaxVersions)
                   m.condition.versions.resize(WriteCondition::kMaxVersions);
                 m.ttl_us = std::get<6>(t);
                 if (!m.erase) m.value = std::get<7>(t);  // a delete carries no value
                 return m;
               }),
      gen::map(
          gen::tuple(gen::arbitrary<uint64_t>(), gen_name(),
                     gen::inRange<uint8_t>(0, wire::kCondOutcomeCount), gen_version(),
                     gen::arbitrary<uint64_t>(), gen::inRange<uint8_t>(0, kErrorCodeCount),
                     gen::string<std::string>()),
          [](auto t) -> Message {
            CondResult m{
                std::get<0>(t), std::get<1>(t), static_cast<CondResult::Outcome>(std::get<2>(t)),
                std::get<3>(t), std::get<4>(t), static_cast<ErrorCode>(std::get<5>(t)),
                std::get<6>(t)};
            if (m.error.size() > 1024) m.error.resize(1024);
            return m;
          }),
      gen::map(gen::pair(gen::arbitrary<uint64_t>(), gen_key()),
               [](auto p) -> Message {
                 return Query{p.first, p.second};
               }),
      gen::map(
          gen::tuple(gen::arbitrary<uint64_t>(), gen_name(),
                     gen::element(QueryAnswer::kNotFound, QueryAnswer::kValue,
                                  QueryAnswer::kTombstone, QueryAnswer::kInvalidated),
                     gen_version(), gen::string<std::string>(),
                     gen::oneOf(gen::just(uint64_t{0}), gen::arbitrary<uint64_t>()), gen_content()),
          [](auto t) -> Message {
            QueryReply r{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
            if (r.answer != QueryAnswer::kNotFound) r.version = std::get<3>(t);
            if (r.answer == QueryAnswer::kValue) r.value = std::get<4>(t);
            // A value may carry an expiry (wire revision 2's answer 4).
            if (r.answer == QueryAnswer::kValue) r.expires_us = std::get<5>(t);
            // And a content type (revision 4's typed answer).
            if (r.answer == QueryAnswer::kValue) r.content = std::get<6>(t);
            return r;
          }),
      gen::map(gen::tuple(gen::arbitrary<uint64_t>(), gen_name(), gen_key(), gen_key(),
                          gen::arbitrary<uint32_t>(), gen::arbitrary<bool>()),
               [](auto t) -> Message {
                 return ListKeys{std::get<0>(t), std::get<1>(t), std::get<2>(t),
                                 std::get<3>(t), std::get<4>(t), std::get<5>(t)};
               }),
      gen::map(
          gen::tuple(
              gen::arbitrary<uint64_t>(), gen_name(), gen::arbitrary<bool>(),
              gen::resize(20, gen::container<std::vector<ListedRecord>>(gen_listed_record()))),
          [](auto t) -> Message {
            return ListKeysReply{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t)};
          }));
}

inline rc::Gen<Message> gen_membership_message();

inline rc::Gen<Message> gen_message() {
  return rc::gen::oneOf(gen_membership_message(), gen_kv_message());
}

// Tags within kernel/membership/tags.h's bounds, sorted by key (a map keeps them so).
inline rc::Gen<Tags> gen_tags() {
  using namespace rc;
  auto key = gen::map(gen::pair(gen::element('a', 'z', 'A', '0', '9', '.', '_', '-'),
                                gen::container<std::string>(gen::element('a', 'b', 'z', '.'))),
                      [](auto p) { return std::string(1, p.first) + p.second.substr(0, 7); });
  auto value = gen::map(gen::container<std::string>(gen::inRange<char>(0x20, 0x7f)),
                        [](std::string s) { return s.substr(0, 12); });
  return gen::map(gen::container<std::map<std::string, std::string>>(key, value), [](auto m) {
    Tags tags;
    for (auto& [k, v] : m) {
      if (tags.size() == 16) break;
      tags.push_back(Tag{k, v});
    }
    return tags;
  });
}

inline rc::Gen<Message> gen_membership_message() {
  using namespace rc;
  return gen::oneOf(
      gen::map(gen::pair(gen::arbitrary<uint32_t>(), gen_name()),
               [](auto p) -> Message {
                 return Ping{p.first, p.second};
               }),
      gen::map(
          gen::tuple(gen::arbitrary<uint32_t>(), gen_name(), gen_address(), gen::arbitrary<bool>()),
          [](auto t) -> Message {
            return IndirectPing{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t)};
          }),
      gen::map(gen::arbitrary<uint32_t>(), [](uint32_t s) -> Message { return Ack{s}; }),
      gen::map(gen::arbitrary<uint32_t>(), [](uint32_t s) -> Message { return Nack{s}; }),
      gen::map(gen::tuple(gen::arbitrary<uint32_t>(), gen_name(), gen_address(), gen_tags(),
                          gen::arbitrary<bool>()),
               [](auto t) -> Message {
                 const bool said = std::get<4>(t);
                 return Alive{std::get<0>(t), std::get<1>(t), std::get<2>(t),
                              said ? std::get<3>(t) : Tags{}, said};
               }),
      gen::map(gen::tuple(gen::arbitrary<uint32_t>(), gen_name(), gen_name()),
               [](auto t) -> Message {
                 return Suspect{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
               }),
      gen::map(gen::tuple(gen::arbitrary<uint32_t>(), gen_name(), gen_name()),
               [](auto t) -> Message {
                 return Dead{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
               }),
      gen::map(gen::tuple(gen::arbitrary<bool>(), gen::arbitrary<bool>(), gen_name(), gen_address(),
                          gen::container<std::vector<MemberRecord>>(gen::map(
                              gen::tuple(gen_name(), gen_address(), gen::arbitrary<uint32_t>(),
                                         gen_state(), gen_tags()),
                              [](auto r) {
                                // Tags said, except for some records that have none.
                                const bool said =
                                    !std::get<4>(r).empty() || std::get<1>(r).port % 2 == 0;
                                return MemberRecord{std::get<0>(r), std::get<1>(r), std::get<2>(r),
                                                    std::get<3>(r), std::get<4>(r), said};
                              }))),
               [](auto t) -> Message {
                 return PushPull{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t),
                                 std::get<4>(t)};
               }));
}

}  // namespace ckv::wire::testing
