// Stable 64-bit hashing: the same bytes give the same value on every platform and run.
// Used for the kernel's lookup tables and the simulator's trace hash; not for security.
#pragma once

#include <cstdint>
#include <string_view>

namespace ckv {

inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a over bytes, continuing from `h`.
inline constexpr uint64_t fnv1a(std::string_view bytes, uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// Folds one 64-bit word into `h` (FNV-1a over the word's value, not its memory layout).
inline constexpr uint64_t hash_word(uint64_t h, uint64_t word) {
  h ^= word;
  h *= kFnvPrime;
  h ^= h >> 29;
  return h;
}

}  // namespace ckv
