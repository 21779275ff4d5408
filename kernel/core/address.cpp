#include "kernel/core/address.h"

#include <charconv>

namespace ckv {

std::string Address::to_string() const {
  std::string out;
  out.reserve(21);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += std::to_string((ip >> shift) & 0xff);
    out += shift == 0 ? ':' : '.';
  }
  out += std::to_string(port);
  return out;
}

namespace {

// Parses a decimal number in [0, max] that spans all of `text`.
bool parse_decimal(std::string_view text, uint32_t max, uint32_t& out) {
  if (text.empty() || text.size() > 5) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && out <= max;
}

}  // namespace

Result<Address> Address::parse(std::string_view text) {
  auto bad = [&](const char* why) {
    return Error{ErrorCode::kInvalidArgument,
                 "bad address '" + std::string(text) + "': " + why + " (want a.b.c.d:port)"};
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  uint32_t port = 0;
  if (!parse_decimal(text.substr(colon + 1), 65535, port) || port == 0) return bad("bad port");

  std::string_view host = text.substr(0, colon);
  uint32_t ip = 0;
  for (int part = 0; part < 4; ++part) {
    const size_t dot = host.find('.');
    const bool last = part == 3;
    if (last != (dot == std::string_view::npos)) return bad("not four dotted numbers");
    uint32_t octet = 0;
    if (!parse_decimal(host.substr(0, dot), 255, octet)) return bad("bad number in IPv4 address");
    ip = (ip << 8) | octet;
    if (!last) host.remove_prefix(dot + 1);
  }
  return Address{ip, static_cast<uint16_t>(port)};
}

}  // namespace ckv
