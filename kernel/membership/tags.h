// Tags: the labels a node gives itself (role=cache, zone=eu-1), gossiped with its
// membership so every member can tell what the others are, and changed only with an
// incarnation bump (Membership::set_tags), so the newest always wins everywhere.
//
// Held to small bounds, as memberlist holds node meta to 512 bytes: at most kMaxTags tags,
// keys 1..64 bytes of [A-Za-z0-9._-], values up to 256 bytes of printable ASCII, each key
// once, at most kMaxTagBytes of keys and values in all. Kept sorted by key, so two equal
// sets of tags are equal vectors.
#pragma once

#include <string_view>

#include "kernel/core/result.h"
#include "kernel/wire/messages.h"

namespace ckv {

inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxTagKeyBytes = 64;
inline constexpr size_t kMaxTagValueBytes = 256;
inline constexpr size_t kMaxTagBytes = 512;

// Ok when `tags` are within the bounds above and sorted by key (each key once).
Status check_tags(const wire::Tags& tags);

// `tags` sorted by key, then checked.
Result<wire::Tags> normalize_tags(wire::Tags tags);

// Whether `tags` hold the tag `key` with `value`.
bool has_tag(const wire::Tags& tags, std::string_view key, std::string_view value);

}  // namespace ckv
