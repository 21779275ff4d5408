#include "runtime/log.h"

#include <cstdio>
#include <ctime>

#include "kernel/core/enum_names.h"

namespace ckv {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mu;
std::string g_name;  // guarded by g_mu

constexpr auto kLogLevelNames = name_table({"debug", "info", "warn", "error"});
static_assert(kLogLevelNames.size() == kLogLevelCount, "one name per value");

const char* level_name(LogLevel level) {
  return name_of(kLogLevelNames, level);
}

}  // namespace

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void set_log_level(LogLevel level) {
  g_level.store(level);
}

void set_log_name(std::string name) {
  std::lock_guard lock(g_mu);
  g_name = std::move(name);
}

bool log_enabled(LogLevel level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  std::lock_guard lock(g_mu);
  std::fprintf(stderr, "%s %-5s %s: %.*s\n", stamp, level_name(level), g_name.c_str(),
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

void RateLimitedLog::operator()(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= interval_) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= burst_) {
      suppressed_++;
      return;
    }
    in_window_++;
    suppressed = suppressed_;
    suppressed_ = 0;
  }
  if (suppressed == 0) {
    log(level, message);
  } else {
    log(level,
        std::string(message) + " (" + std::to_string(suppressed) + " similar lines suppressed)");
  }
}

}  // namespace ckv
