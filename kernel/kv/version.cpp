#include "kernel/kv/version.h"

namespace ckv {

std::string to_string(const Version& v) {
  static const char* digits = "0123456789abcdef";
  std::string node(16, '0');
  for (int i = 0; i < 16; ++i)
    node[15 - i] = digits[(v.node >> (4 * i)) & 0xf];
  return std::to_string(v.wall_us) + "." + std::to_string(v.logical) + "@" + node;
}

}  // namespace ckv
