// Errors as values. Kernel operations that can fail return `Result<T>` (a value or an
// `Error`) or `Status` (nothing or an `Error`); no exception crosses the kernel boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "kernel/core/enum_names.h"

namespace ckv {

enum class ErrorCode : uint8_t {
  kInvalidArgument,     // a caller passed something the operation cannot accept
  kTruncated,           // input ended before a complete value was read
  kMalformed,           // input is complete but not a valid encoding
  kOversized,           // input or a field in it exceeds a configured limit
  kUnsupportedVersion,  // the peer speaks a wire version we do not
  kUnknownType,         // a message type this version does not define
  kIoError,             // the store or the operating system failed (the runtime's errors)
  kNoSpace,             // the store refused a write for want of space (a full disk, a bound)
  kUnavailable,         // too busy or not ready now; the same request may work later
  kNotFound,            // what the operation names does not exist (a member, say)
};
inline constexpr size_t kErrorCodeCount = 10;
static_assert(static_cast<size_t>(ErrorCode::kNotFound) + 1 == kErrorCodeCount);

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string detail;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

inline constexpr auto kErrorCodeNames = name_table({
    "invalid argument",
    "truncated",
    "malformed",
    "oversized",
    "unsupported version",
    "unknown type",
    "I/O error",
    "no space",
    "unavailable",
    "not found",
});
static_assert(kErrorCodeNames.size() == kErrorCodeCount, "one name per value");

inline const char* to_string(ErrorCode code) {
  return name_of(kErrorCodeNames, code);
}

}  // namespace ckv
