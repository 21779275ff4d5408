// Address: where a node receives gossip — an IPv4 address and a port, 8 bytes.
// The kernel treats it as an opaque, ordered, hashable value; the runtime maps it to a
// socket address and the simulator to a node index.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "kernel/core/result.h"

namespace ckv {

struct Address {
  uint32_t ip = 0;  // host byte order: 10.0.0.1 is 0x0a000001
  uint16_t port = 0;

  friend auto operator<=>(const Address&, const Address&) = default;

  // "a.b.c.d:port"
  std::string to_string() const;
  // Parses "a.b.c.d:port" (port 1..65535). Anything else is an error.
  static Result<Address> parse(std::string_view text);

  uint64_t packed() const { return (uint64_t{ip} << 16) | port; }
};

}  // namespace ckv
