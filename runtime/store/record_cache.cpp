#include "runtime/store/record_cache.h"

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

namespace ckv {

struct RecordCache::Shard {
  using Lru = std::list<std::pair<std::string, Record>>;  // most recently used first

  std::mutex write_mu;  // held by a Write from construction to done()
  std::mutex mu;        // guards everything below
  // Per stripe of keys (by hash): moves on when a write of one of its keys begins and
  // when it ends; a ticket is its value at a miss. Stripes, not the whole shard, so that
  // a batch in flight (an fsync long, with --sync) sends to the store only the reads of
  // its own keys and of their stripes' other keys.
  std::array<uint64_t, kStripes> generation;
  std::array<uint32_t, kStripes> writing{};  // keys of the Write in flight in the stripe
  Lru lru;
  std::unordered_map<std::string_view, Lru::iterator> index;  // views of the keys in lru
  size_t bytes = 0;
  size_t budget = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  // The doorkeeper: hashes of keys offered once and not kept, one slot per hash value
  // modulo its size. A key is kept at its second offer while its slot still holds it.
  std::array<size_t, kDoorkeeperSlots> offered_once{};

  static size_t cost(std::string_view key, const Record& record) {
    return kEntryOverhead + key.size() + record.value.size() + record.content.bytes();
  }
  void erase(std::unordered_map<std::string_view, Lru::iterator>::iterator at) {
    Lru::iterator entry = at->second;
    bytes -= cost(entry->first, entry->second);
    index.erase(at);
    lru.erase(entry);
  }
  void evict_over_budget() {
    while (bytes > budget && !lru.empty())
      erase(index.find(lru.back().first));
  }
};

RecordCache::RecordCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes), shards_(new Shard[kShards]) {
  for (size_t i = 0; i < kShards; ++i) {
    shards_[i].budget = capacity_bytes / kShards;
    shards_[i].generation.fill(kNoTicket + 1);
  }
}

RecordCache::~RecordCache() = default;

namespace {
size_t hash_of(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}
size_t stripe_of(size_t hash) {
  return (hash / RecordCache::kShards) % RecordCache::kStripes;
}
}  // namespace

bool RecordCache::lookup(std::string_view key, Record& out, uint64_t& ticket) {
  ticket = kNoTicket;
  if (capacity_bytes_ == 0) return false;
  const size_t hash = hash_of(key);
  Shard& shard = shards_[hash % kShards];
  const size_t stripe = stripe_of(hash);
  std::lock_guard lock(shard.mu);
  if (shard.writing[stripe] != 0) {
    // A write of this stripe is in flight. The store may show it already (a write is
    // visible there before done()), and a reader that missed earlier may have read it
    // from there: a cached record, possibly older, would send that reader back in time.
    // So read the store, and give no ticket.
    shard.misses++;
    return false;
  }
  if (auto at = shard.index.find(key); at != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, at->second);
    out = at->second->second;
    shard.hits++;
    return true;
  }
  shard.misses++;
  ticket = shard.generation[stripe];
  return false;
}

void RecordCache::offer(std::string_view key, uint64_t ticket, const Record& record) {
  if (ticket == kNoTicket || capacity_bytes_ == 0) return;
  const size_t hash = hash_of(key);
  Shard& shard = shards_[hash % kShards];
  const size_t cost = Shard::cost(key, record);
  if (cost > shard.budget / 8) return;
  std::lock_guard lock(shard.mu);
  // A write since the ticket may have stored something newer than `record`.
  const size_t stripe = stripe_of(hash);
  if (shard.writing[stripe] != 0 || shard.generation[stripe] != ticket) return;
  if (shard.index.contains(key)) return;  // another reader of the same state was first
  size_t& slot = shard.offered_once[(hash / kShards) % kDoorkeeperSlots];
  if (slot != hash) {
    slot = hash;
    return;
  }
  slot = 0;
  shard.lru.emplace_front(std::string(key), record);
  shard.index.emplace(shard.lru.front().first, shard.lru.begin());
  shard.bytes += cost;
  shard.evict_over_budget();
}

RecordCache::Write::Write(RecordCache& cache, std::string_view key)
    : Write(cache, std::vector<std::string_view>{key}) {}

RecordCache::Write::Write(RecordCache& cache, std::vector<std::string_view> keys)
    : cache_(cache.capacity_bytes_ == 0 ? nullptr : &cache), keys_(std::move(keys)) {
  if (cache_ == nullptr) return;
  hashes_.reserve(keys_.size());
  shards_.reserve(std::min(keys_.size(), kShards));
  for (std::string_view key : keys_)
    hashes_.push_back(hash_of(key));
  for (size_t hash : hashes_)
    shards_.push_back(hash % kShards);
  std::sort(shards_.begin(), shards_.end());
  shards_.erase(std::unique(shards_.begin(), shards_.end()), shards_.end());
  for (size_t i : shards_)
    cache_->shards_[i].write_mu.lock();
  for (size_t hash : hashes_) {
    Shard& shard = cache_->shards_[hash % kShards];
    std::lock_guard lock(shard.mu);
    shard.generation[stripe_of(hash)]++;
    shard.writing[stripe_of(hash)]++;
  }
}

RecordCache::Write::~Write() {
  if (!finished_) done(std::vector<const Record*>(keys_.size(), nullptr));
}

void RecordCache::Write::done(const Record* stored) {
  done(std::vector<const Record*>{stored});
}

void RecordCache::Write::done(const std::vector<const Record*>& stored) {
  finished_ = true;
  if (cache_ == nullptr) return;
  for (size_t k = 0; k < keys_.size(); ++k) {
    Shard& shard = cache_->shards_[hashes_[k] % kShards];
    const Record* record = k < stored.size() ? stored[k] : nullptr;
    std::lock_guard lock(shard.mu);
    auto at = shard.index.find(keys_[k]);
    if (at == shard.index.end()) continue;
    if (record != nullptr && Shard::cost(keys_[k], *record) <= shard.budget / 8) {
      shard.bytes -= Shard::cost(keys_[k], at->second->second);
      at->second->second = *record;
      shard.bytes += Shard::cost(keys_[k], *record);
      shard.evict_over_budget();
    } else {
      shard.erase(at);
    }
  }
  for (size_t hash : hashes_) {
    Shard& shard = cache_->shards_[hash % kShards];
    std::lock_guard lock(shard.mu);
    shard.generation[stripe_of(hash)]++;
    shard.writing[stripe_of(hash)]--;
  }
  for (size_t i : shards_)
    cache_->shards_[i].write_mu.unlock();
}

RecordCache::Stats RecordCache::stats() const {
  Stats total;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    total.hits += shards_[i].hits;
    total.misses += shards_[i].misses;
    total.records += shards_[i].index.size();
    total.bytes += shards_[i].bytes;
  }
  return total;
}

}  // namespace ckv
