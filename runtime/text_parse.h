// Parsers for the few text forms users type: durations, listen addresses and join targets.
// Each returns an error that can be shown to the user as is; none throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"

namespace ckv {

// Takes the first line of `text` off it and returns it, without its '\n' (a '\r' before
// it stays). For the line-by-line files (config, keyring, tokens): call while `text` is
// not empty.
std::string_view take_line(std::string_view& text);

// "250ms", "2s", "1.5s", "1m", "2h", "7d", "100us", or a bare number of milliseconds
// ("250"). Must be at least 1 us and at most `max` (one hour unless said).
Result<Duration> parse_duration(std::string_view text, Duration max = std::chrono::hours(1));

// An HTTP date (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") of a Unix time.
std::string http_date(int64_t unix_seconds);
// The seconds since the epoch of an HTTP date in its preferred form (IMF-fixdate, as
// http_date writes it); none for anything else.
std::optional<int64_t> parse_http_date(std::string_view text);

// An IPv4 listen address: "a.b.c.d:port", ":port" or "port" (then the address is
// `default_ip`). Port 0 is refused: peers must be told where to find us.
Result<Address> parse_listen_address(std::string_view text, uint32_t default_ip);

struct HostPort {
  std::string host;  // a dotted IPv4 address or a name to resolve
  uint16_t port = 0;
};
// "host:port" or "host" (then `default_port`).
Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port);

}  // namespace ckv
