// Log: one line per event on stderr, with a UTC timestamp, a level and the node's name.
//
// Thread-safe: lines from different threads never interleave. Lines below the level set
// with set_log_level() are dropped before they are formatted (check log_enabled() before
// building an expensive message). RateLimitedLog lets a hot path (rejected packets, bad
// requests) log at most a few lines per interval and count the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace ckv {

enum class LogLevel : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
inline constexpr size_t kLogLevelCount = 4;
static_assert(static_cast<size_t>(LogLevel::kError) + 1 == kLogLevelCount);

// "debug", "info", "warn", "error"; false for anything else.
bool parse_log_level(std::string_view text, LogLevel& out);
void set_log_level(LogLevel level);
void set_log_name(std::string name);
bool log_enabled(LogLevel level);
void log(LogLevel level, std::string_view message);

inline void log_debug(std::string_view m) {
  log(LogLevel::kDebug, m);
}
inline void log_info(std::string_view m) {
  log(LogLevel::kInfo, m);
}
inline void log_warn(std::string_view m) {
  log(LogLevel::kWarn, m);
}
inline void log_error(std::string_view m) {
  log(LogLevel::kError, m);
}

// Text from outside (a key, a name from the network) made safe for a one-line message:
// in double quotes, every byte outside printable ASCII and every quote or backslash as
// \xNN, cut after 64 bytes with "...".
std::string quote(std::string_view text);

// Logs at most `burst` lines per `interval`; the lines it drops are counted and the count
// is reported with the next line that gets through.
class RateLimitedLog {
 public:
  RateLimitedLog(int burst, std::chrono::seconds interval) : burst_(burst), interval_(interval) {}
  void operator()(LogLevel level, std::string_view message);

 private:
  std::mutex mu_;
  int burst_;
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point window_start_{};
  int in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace ckv
