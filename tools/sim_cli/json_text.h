// Text for the JSON lines cluster-kv-sim prints (its last line is always one JSON object).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace ckv::sim {

// `text` as the inside of a JSON string: quotes and backslashes escaped, control
// characters as \u00XX.
inline std::string json_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ckv::sim
