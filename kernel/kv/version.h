// Version: the stamp that totally orders the writes of one key.
//
// A version is a hybrid logical clock reading (wall-clock microseconds, logical counter)
// plus the id of the node that issued it, compared in that order. Two writes never share
// a version: one node never issues the same reading twice (see hlc.h), and distinct nodes
// have distinct ids. The highest version of a key wins (last writer wins).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "kernel/core/hash.h"

namespace ckv {

struct Version {
  uint64_t wall_us = 0;  // wall-clock microseconds since the Unix epoch
  uint32_t logical = 0;  // orders versions issued within one wall_us
  uint64_t node = 0;     // issuing node's id (node_id() of its name)

  bool is_zero() const { return wall_us == 0 && logical == 0 && node == 0; }
  friend auto operator<=>(const Version&, const Version&) = default;
};

// A node's id: a stable 64-bit hash of its name.
inline uint64_t node_id(std::string_view name) {
  return hash_word(fnv1a(name), name.size());
}

// "<wall_us>.<logical>@<node hex>", for logs, traces and ETags.
std::string to_string(const Version& v);
// The same text appended to `out` (no allocation beyond out's own growth).
void append_version(std::string& out, const Version& v);
// The version `text` spells in to_string's form; false if it is not exactly that.
bool parse_version(std::string_view text, Version& out);

}  // namespace ckv
