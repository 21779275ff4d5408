// Aead: AES-256-GCM sealing of node-to-node messages (OpenSSL's libcrypto), and the
// base64 form in which operators hand keys to the node.
//
// A sealed message is nonce (12 bytes) + ciphertext + tag (16 bytes). Nonces never repeat
// within a thread (a 64-bit random field drawn from the OS's CSPRNG per thread, then a
// 32-bit counter; a new field when it wraps), so across the nodes sharing a key they can
// repeat only if two random fields collide. `open` succeeds only for bytes sealed under
// the same key with the same associated data, unmodified; otherwise it returns false and
// `out` holds nothing usable. Thread-safe: each thread keeps its own cipher contexts.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/result.h"

namespace ckv {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;
inline constexpr size_t kAeadOverhead = kAeadNonceBytes + kAeadTagBytes;

using AeadKey = std::array<uint8_t, kAeadKeyBytes>;
using Bytes = std::span<const uint8_t>;

// Appends the sealed form of `plain` to `out`.
void aead_seal(const AeadKey& key, Bytes associated, Bytes plain, std::vector<uint8_t>& out);

// Replaces `out` with the opened message; false if `sealed` is not authentic under `key`.
bool aead_open(const AeadKey& key, Bytes associated, Bytes sealed, std::vector<uint8_t>& out);

// A key in standard base64 (with or without '=' padding; surrounding blanks ignored).
// Anything but exactly 32 bytes of key is an error that says what was wrong.
Result<AeadKey> parse_key_base64(std::string_view text);

// A short, non-secret name of a key for logs: the first 8 hex digits of its SHA-256.
std::string key_fingerprint(const AeadKey& key);

// `n` random bytes from the OS's CSPRNG (through OpenSSL).
void random_bytes(uint8_t* out, size_t n);

}  // namespace ckv
