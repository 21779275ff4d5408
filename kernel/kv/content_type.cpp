#include "kernel/kv/content_type.h"

namespace ckv {

bool valid_content_field(std::string_view text) {
  if (text.empty()) return true;
  if (text.size() > kMaxContentTypeBytes) return false;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (blank(text.front()) || blank(text.back())) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (!blank(c) && (u < 0x21 || u > 0x7e)) return false;
  }
  return true;
}

}  // namespace ckv
