// Writes the seed corpus of wire_decode_fuzz: a dozen packets encoded by the real codec,
// together holding every message kind (some carry several frames, as a probe carries its
// gossip), with the values a running cluster sends. Run it again when the format changes:
//   cmake --build build/fuzz --target wire_decode_fuzz_seeds
//   build/fuzz/tests/wire_decode_fuzz_seeds tests/kernel/wire/decode_fuzz_corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "kernel/wire/codec.h"

namespace {

using namespace ckv;
using namespace ckv::wire;

struct Seed {
  const char* name;
  std::vector<Message> messages;
};

std::vector<Seed> seeds() {
  const Address n1{0x7f000001, 7946};
  const Address n2{0x0a000002, 7946};
  const Address n3{0xc0a80103, 17946};
  const Version v1{1764000000000000, 0, 0x1234'5678'9abc'def0};
  const Version v2{1764000000000123, 7, 42};
  return {
      {"ping_with_gossip",
       {Ping{17, "node-2"}, Alive{3, "node-3", n3}, Suspect{2, "node-4", "node-1"},
        Dead{5, "node-5", "node-5"}}},
      {"indirect_ping", {IndirectPing{18, "node-3", n3, true}}},
      {"ack", {Ack{17}}},
      {"nack_and_alive", {Nack{18}, Alive{1, "node-1", n1}}},
      {"push_pull_join",
       {PushPull{true, false, "node-1", n1, {{"node-1", n1, 1, MemberState::kAlive}}}}},
      {"push_pull_reply",
       {PushPull{false,
                 true,
                 "node-2",
                 n2,
                 {{"node-1", n1, 1, MemberState::kAlive},
                  {"node-2", n2, 4, MemberState::kSuspect},
                  {"node-3", n3, 2, MemberState::kDead},
                  {"node-4", n3, 9, MemberState::kLeft}}}}},
      {"invalidate", {Invalidate{"node-1", 0xfeed'beef, 41, {{"user/42", v1}, {"cart%2F7", v2}}}}},
      {"invalidate_ack_and_reset",
       {InvalidateAck{"node-2", 0xfeed'beef, 42}, InvalidateReset{"node-1", 0xfeed'beef, 9000}}},
      {"query", {Query{1001, "user/42"}}},
      {"query_reply_value", {QueryReply{1001, "node-2", QueryAnswer::kValue, v1, "hello"}}},
      {"query_reply_expiring_value",
       {QueryReply{1005, "node-2", QueryAnswer::kValue, v1, "soon", 1700000000123456}}},
      {"query_replies_without_value",
       {QueryReply{1002, "node-2", QueryAnswer::kNotFound, {}, {}},
        QueryReply{1003, "node-3", QueryAnswer::kTombstone, v2, {}},
        QueryReply{1004, "node-4", QueryAnswer::kInvalidated, v1, {}}}},
      {"newer", {Newer{{{"user/42", v2}, {"k", v1}}}}},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  std::set<size_t> kinds;
  for (const Seed& seed : seeds()) {
    const std::vector<uint8_t> bytes = encode_packet(seed.messages);
    std::vector<Message> back;
    if (!decode_packet(bytes, DecodeLimits{}, back).ok() || back != seed.messages) {
      std::fprintf(stderr, "seed %s does not decode to itself\n", seed.name);
      return 1;
    }
    for (const Message& m : seed.messages)
      kinds.insert(m.index());
    std::ofstream(dir / seed.name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  if (kinds.size() != std::variant_size_v<Message>) {
    std::fprintf(stderr, "the seeds miss a message kind\n");
    return 1;
  }
  std::printf("wrote %zu seeds to %s\n", seeds().size(), dir.c_str());
  return 0;
}
