// ByteWriter: appends the wire format's primitive values to a byte vector (also the
// encoding of the records RocksStore keeps, so the two share one varint rule).
// Integers are LEB128 varints, in their shortest form, unless the name says otherwise;
// strings are a varint length followed by the bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "kernel/core/address.h"

namespace ckv::wire {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void boolean(bool v) { out_.push_back(v ? 1 : 0); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
  }
  void bytes(std::string_view b) {
    varint(b.size());
    raw(b);
  }
  // Family tag 4, then the IPv4 address and the port, both big-endian: 7 bytes.
  void address(const Address& a) {
    u8(kFamilyIpv4);
    ipv4_port(a);
  }
  // The IPv4 address and the port, both big-endian, untagged: 6 bytes.
  void ipv4_port(const Address& a) {
    for (int shift = 24; shift >= 0; shift -= 8)
      u8(static_cast<uint8_t>(a.ip >> shift));
    u8(static_cast<uint8_t>(a.port >> 8));
    u8(static_cast<uint8_t>(a.port));
  }
  // Little-endian in 8 bytes, for values that use most of their 64 bits.
  void fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  // The bytes as they are, without a length (the last field of a record).
  void raw(std::string_view b) {
    const size_t at = out_.size();
    out_.resize(at + b.size());
    if (!b.empty()) std::memcpy(out_.data() + at, b.data(), b.size());
  }

  size_t size() const { return out_.size(); }

  static constexpr uint8_t kFamilyIpv4 = 4;

 private:
  std::vector<uint8_t>& out_;
};

// Number of bytes `varint(v)` writes.
inline constexpr size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace ckv::wire
