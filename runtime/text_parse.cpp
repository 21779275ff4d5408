#include "runtime/text_parse.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace ckv {

std::string_view take_line(std::string_view& text) {
  const size_t end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}
namespace {

Error bad(std::string detail) {
  return Error{ErrorCode::kInvalidArgument, std::move(detail)};
}

Result<uint16_t> parse_port(std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port == 0 ||
      port > 65535) {
    return bad("bad port '" + std::string(text) + "' (want 1..65535)");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<Duration> parse_duration(std::string_view text, Duration max) {
  size_t unit_at = 0;
  while (unit_at < text.size() &&
         ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    unit_at++;
  }
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = text.substr(unit_at);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
    return bad("bad duration '" + std::string(text) + "' (examples: 250ms, 2s, 250)");
  }
  double micros_per_unit = 0;
  if (unit.empty() || unit == "ms") {
    micros_per_unit = 1e3;
  } else if (unit == "us") {
    micros_per_unit = 1;
  } else if (unit == "s") {
    micros_per_unit = 1e6;
  } else if (unit == "m") {
    micros_per_unit = 60e6;
  } else if (unit == "h") {
    micros_per_unit = 3600e6;
  } else if (unit == "d") {
    micros_per_unit = 86400e6;
  } else {
    return bad("bad duration unit in '" + std::string(text) + "' (use us, ms, s, m, h or d)");
  }
  double micros = value * micros_per_unit;
  if (!(micros >= 1) || micros > static_cast<double>(max.count())) {
    const bool in_hours = max.count() % 3600'000'000 == 0;
    return bad("duration '" + std::string(text) + "' out of range (1us.." +
               (in_hours ? std::to_string(max.count() / 3600'000'000) + "h"
                         : std::to_string(max.count()) + "us") +
               ")");
  }
  return Duration(static_cast<int64_t>(std::llround(micros)));
}

std::string http_date(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return out;
}

std::optional<int64_t> parse_http_date(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  auto number = [&](size_t at, size_t digits) -> int {
    int v = 0;
    for (size_t i = at; i < at + digits; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const size_t month_at = kMonths.find(text.substr(8, 3));
  const int day = number(5, 2), year = number(12, 4), hour = number(17, 2);
  const int minute = number(20, 2), second = number(23, 2);
  if (month_at == std::string_view::npos || month_at % 3 != 0 || day < 1 || day > 31 ||
      year < 1970 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  // Days since the epoch of a civil date (Howard Hinnant's algorithm).
  const int month = static_cast<int>(month_at / 3) + 1;
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

Result<Address> parse_listen_address(std::string_view text, uint32_t default_ip) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    auto port = parse_port(text);
    if (!port) return port.error();
    return Address{default_ip, *port};
  }
  if (colon == 0) {
    auto port = parse_port(text.substr(1));
    if (!port) return port.error();
    return Address{default_ip, *port};
  }
  return Address::parse(text);
}

Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port) {
  size_t colon = text.rfind(':');
  HostPort out;
  if (colon == std::string_view::npos) {
    out.host = std::string(text);
    out.port = default_port;
  } else {
    out.host = std::string(text.substr(0, colon));
    auto port = parse_port(text.substr(colon + 1));
    if (!port) return port.error();
    out.port = *port;
  }
  if (out.host.empty()) return bad("missing host in '" + std::string(text) + "'");
  return out;
}

}  // namespace ckv
