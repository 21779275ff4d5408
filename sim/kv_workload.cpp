#include "sim/kv_workload.h"

#include <algorithm>

#include "kernel/core/enum_names.h"

namespace ckv::sim {

constexpr auto kKvProfileNames = name_table({"random", "read-modify-write"});
static_assert(kKvProfileNames.size() == kKvProfileCount, "one name per value");

const char* to_string(KvProfile profile) {
  return name_of(kKvProfileNames, profile);
}

size_t KvWorkload::put_bytes() {
  const bool large = rng_.chance(config_.large_share);
  return large ? config_.large_bytes + rng_.below(1024)
               : static_cast<size_t>(rng_.below(config_.small_max_bytes + 1));
}

Duration KvWorkload::next_gap() {
  const auto mean_us = static_cast<uint64_t>(1e6 / config_.ops_per_second);
  return Duration(1 + static_cast<int64_t>(rng_.below(2 * mean_us)));
}

KvOp KvWorkload::next_op() {
  KvOp op{next_id_++, ClientOp::kGet, static_cast<uint32_t>(rng_.below(config_.keys)), 0};
  const double r = static_cast<double>(rng_.below(1'000'000)) / 1e6;
  if (r < config_.put_share) {
    op.op = ClientOp::kPut;
    op.value_bytes = put_bytes();
    if (static_cast<double>(rng_.below(1'000'000)) / 1e6 < config_.ttl_share) {
      const auto span = static_cast<uint64_t>((config_.ttl_max - config_.ttl_min).count());
      op.ttl = config_.ttl_min + Duration(static_cast<int64_t>(rng_.below(span + 1)));
    }
  } else if (r < config_.put_share + config_.delete_share) {
    op.op = ClientOp::kDelete;
  } else if (r >= 1.0 - config_.list_share) {
    op.op = ClientOp::kList;
  }
  return op;
}

uint32_t first_cas_key(const KvWorkloadConfig& config) {
  return config.keys - std::min(config.cas_keys.value_or(0), config.keys / 4);
}

KvOp KvWorkload::rmw_read() {
  return KvOp{next_id_++, ClientOp::kGet, static_cast<uint32_t>(rng_.below(config_.keys)), 0};
}

KvOp KvWorkload::rmw_write(uint32_t key) {
  KvOp op{next_id_++, ClientOp::kPut, key, 0};
  op.value_bytes = put_bytes();
  return op;
}

Duration KvWorkload::rmw_pause(uint32_t loops, uint32_t clients) {
  if (loops < config_.rmw_burst) return Duration(1 + static_cast<int64_t>(rng_.below(1000)));
  // Two operations a loop: `clients` loops every 2 / ops_per_second on average.
  const auto mean_us = static_cast<uint64_t>(2e6 * clients / config_.ops_per_second);
  return Duration(1 + static_cast<int64_t>(rng_.below(2 * mean_us)));
}

std::string key_name(uint32_t key) {
  return "key" + std::to_string(key);
}

uint32_t key_index(std::string_view name) {
  if (name.size() < 4 || name.size() > 13 || name.substr(0, 3) != "key") return UINT32_MAX;
  uint64_t n = 0;
  for (char c : name.substr(3)) {
    if (c < '0' || c > '9') return UINT32_MAX;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n < UINT32_MAX ? static_cast<uint32_t>(n) : UINT32_MAX;
}

std::string value_for(uint64_t op_id, size_t bytes) {
  // A 64-byte block drawn from the id, repeated, each copy stamped with its position: the
  // value differs from every other op's, and a truncated, shifted or spliced copy of it
  // differs from it. Cheap enough for megabyte values in a debug build.
  uint64_t state = op_id * 0x9e3779b97f4a7c15ULL;
  char block[64];
  for (size_t i = 0; i < sizeof block; i += 8) {
    const uint64_t word = splitmix64(state);
    for (size_t k = 0; k < 8; ++k)
      block[i + k] = static_cast<char>(word >> (8 * k));  // byte order fixed everywhere
  }
  std::string v;
  v.reserve(bytes);
  for (uint64_t n = 0; v.size() < bytes; ++n) {
    for (size_t k = 0; k < 8; ++k)
      block[k] = static_cast<char>((n ^ op_id) >> (8 * k));
    v.append(block, std::min(sizeof block, bytes - v.size()));
  }
  return v;
}

ContentType content_for(uint64_t op_id) {
  switch (op_id % 4) {
    case 0:
      return {};
    case 1:
      return {"text/plain; charset=utf-8", ""};
    case 2:
      return {"application/json", "gzip"};
    default:
      return {"application/x-op-" + std::to_string(op_id % 1000), "br"};
  }
}

}  // namespace ckv::sim
