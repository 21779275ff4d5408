// ByteReader: reads the wire format's primitive values from untrusted bytes.
//
// RocksStore decodes its records with it too. It never reads outside its span. The first
// failure (truncation, an overlong or non-shortest varint, a string over its limit, a bad
// tag) is remembered, every later read returns a zero value, and the caller checks
// `failed()` once at the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kernel/core/address.h"
#include "kernel/core/result.h"

namespace ckv::wire {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint8_t u8() {
    if (!need(1)) return 0;
    return bytes_[pos_++];
  }
  bool boolean() {
    const uint8_t v = u8();
    if (v > 1) fail(ErrorCode::kMalformed, "boolean is neither 0 nor 1");
    return v == 1;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!need(1)) return 0;
      const uint8_t byte = bytes_[pos_++];
      if (shift == 63 && byte > 1) break;  // would overflow 64 bits
      v |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) {
        // Exactly one encoding per value: a zero final byte after others is padding.
        if (byte == 0 && shift > 0) break;
        return v;
      }
    }
    fail(ErrorCode::kMalformed, "varint over 64 bits or not in its shortest form");
    return 0;
  }
  uint32_t u32() {
    const uint64_t v = varint();
    if (v > UINT32_MAX) {
      fail(ErrorCode::kMalformed, "value does not fit 32 bits");
      return 0;
    }
    return static_cast<uint32_t>(v);
  }
  // A length-prefixed string of at most `max_len` bytes.
  std::string string(size_t max_len) {
    const uint64_t len = varint();
    if (failed()) return {};
    if (len > max_len) {
      fail(ErrorCode::kOversized, "string longer than its limit");
      return {};
    }
    if (!need(len)) return {};
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }
  Address address() {
    const uint8_t family = u8();
    if (failed()) return {};
    if (family != 4) {
      fail(ErrorCode::kMalformed, "unsupported address family");
      return {};
    }
    return ipv4_port();
  }
  // An untagged IPv4 address and port (ByteWriter::ipv4_port).
  Address ipv4_port() {
    if (!need(6)) return {};
    Address a;
    for (int i = 0; i < 4; ++i)
      a.ip = (a.ip << 8) | bytes_[pos_++];
    a.port = static_cast<uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
    pos_ += 2;
    return a;
  }
  uint64_t fixed64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += 8;
    return v;
  }
  // Every byte left, as they are (ByteWriter::raw as the last field).
  std::string_view rest() {
    const std::string_view r(reinterpret_cast<const char*>(bytes_.data() + pos_), remaining());
    pos_ = bytes_.size();
    return r;
  }
  // A sub-reader over the next `len` bytes, which this reader skips.
  ByteReader take(uint64_t len) {
    if (!need(len)) return ByteReader({});
    ByteReader sub(bytes_.subspan(pos_, len));
    pos_ += len;
    return sub;
  }

  size_t remaining() const { return bytes_.size() - pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }
  bool failed() const { return error_ != nullptr; }
  Error error() const { return Error{code_, error_ ? error_ : ""}; }
  void fail(ErrorCode code, const char* why) {
    if (error_) return;
    code_ = code;
    error_ = why;
    pos_ = bytes_.size();
  }

 private:
  bool need(uint64_t n) {
    if (failed()) return false;
    if (n > remaining()) {
      fail(ErrorCode::kTruncated, "input ends inside a value");
      return false;
    }
    return true;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  ErrorCode code_ = ErrorCode::kMalformed;
  const char* error_ = nullptr;
};

}  // namespace ckv::wire
