#include "kernel/kv/version.h"

namespace ckv {

namespace {

char* put_decimal(char* p, uint64_t n) {
  char reversed[20];
  int len = 0;
  do {
    reversed[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (len > 0)
    *p++ = reversed[--len];
  return p;
}

}  // namespace

void append_version(std::string& out, const Version& v) {
  static const char* digits = "0123456789abcdef";
  char text[48];  // 20 digits, '.', 10 digits, '@', 16 hex digits
  char* p = put_decimal(text, v.wall_us);
  *p++ = '.';
  p = put_decimal(p, v.logical);
  *p++ = '@';
  for (int i = 15; i >= 0; --i)
    *p++ = digits[(v.node >> (4 * i)) & 0xf];
  out.append(text, p);
}

std::string to_string(const Version& v) {
  std::string out;
  append_version(out, v);
  return out;
}

namespace {

// Reads decimal digits from `text` at `at` up to `stop` (or the end) into `out`, which
// must fit in `max`; false on no digits, another character or overflow.
bool take_decimal(std::string_view text, size_t& at, char stop, uint64_t max, uint64_t& out) {
  out = 0;
  const size_t first = at;
  for (; at < text.size() && text[at] != stop; ++at) {
    const char c = text[at];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (out > (max - digit) / 10) return false;
    out = out * 10 + digit;
  }
  return at > first;
}

}  // namespace

bool parse_version(std::string_view text, Version& out) {
  size_t at = 0;
  uint64_t wall = 0;
  uint64_t logical = 0;
  if (!take_decimal(text, at, '.', UINT64_MAX, wall) || at == text.size()) return false;
  ++at;
  if (!take_decimal(text, at, '@', UINT32_MAX, logical) || at == text.size()) return false;
  ++at;
  if (text.size() - at != 16) return false;
  uint64_t node = 0;
  for (; at < text.size(); ++at) {
    const char c = text[at];
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    node = node << 4 | digit;
  }
  out = Version{wall, static_cast<uint32_t>(logical), node};
  return true;
}

}  // namespace ckv
