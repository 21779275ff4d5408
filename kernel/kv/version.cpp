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

}  // namespace ckv
