// Enum names: tables of the strings an enum's to_string returns, one per value in order.
// A table is exactly as long as the names written into it, so a static_assert against the
// enum's count catches a value added without a name; looking up an out-of-range value
// gives "?". Only for enums numbered contiguously from 0.
#pragma once

#include <array>
#include <cstddef>

namespace ckv {

// The names, in enum order: `constexpr auto kNames = name_table({"a", "b"});`.
template <size_t N>
constexpr std::array<const char*, N> name_table(const char* const (&names)[N]) {
  std::array<const char*, N> table{};
  for (size_t i = 0; i < N; ++i)
    table[i] = names[i];
  return table;
}

// The name of `value` in `table`, or "?" when the table has none.
template <class Enum, size_t N>
constexpr const char* name_of(const std::array<const char*, N>& table, Enum value) {
  const auto index = static_cast<size_t>(value);
  return index < N ? table[index] : "?";
}

}  // namespace ckv
