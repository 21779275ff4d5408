#include "runtime/gossip/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ckv {
namespace {

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

// A cipher context per thread and direction, keeping the expanded key of the last key
// it was given: creating a context, or expanding a key, costs more than sealing a gossip
// packet, and a node uses one key for nearly everything.
class KeyedContext {
 public:
  KeyedContext() : ctx_(EVP_CIPHER_CTX_new()) {
    if (!ctx_) {
      std::fputs("cluster-kv: out of memory creating a cipher context\n", stderr);
      std::abort();
    }
  }
  // Ready for one message under `key` and `nonce`; null if OpenSSL failed.
  EVP_CIPHER_CTX* start(const AeadKey& key, const uint8_t* nonce, bool encrypt) {
    bool same_key = has_key_ && key == key_;
    const uint8_t* key_bytes = same_key ? nullptr : key.data();
    const EVP_CIPHER* cipher = same_key ? nullptr : EVP_aes_256_gcm();
    int rc = encrypt ? EVP_EncryptInit_ex(ctx_.get(), cipher, nullptr, key_bytes, nonce)
                     : EVP_DecryptInit_ex(ctx_.get(), cipher, nullptr, key_bytes, nonce);
    if (rc != 1) {
      has_key_ = false;
      return nullptr;
    }
    key_ = key;
    has_key_ = true;
    return ctx_.get();
  }

 private:
  CipherContext ctx_;
  AeadKey key_{};
  bool has_key_ = false;
};

// Nonces as RFC 5116 (section 3.2) recommends: a random field fixed per thread, then a
// counter. Unique within the thread; a new random field when the counter wraps. Two
// senders collide only if their 64-bit random fields do.
void next_nonce(uint8_t* nonce) {
  thread_local uint8_t fixed[8];
  thread_local uint32_t counter = 0;
  if (counter == 0) random_bytes(fixed, sizeof fixed);
  std::memcpy(nonce, fixed, sizeof fixed);
  for (int i = 0; i < 4; ++i)
    nonce[8 + i] = static_cast<uint8_t>(counter >> (8 * i));
  counter++;
}

int as_int(size_t n) {
  return static_cast<int>(n);
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

void random_bytes(uint8_t* out, size_t n) {
  // RAND_bytes fails only if the OS cannot seed the generator; sending with a
  // predictable nonce would be worse than stopping.
  if (RAND_bytes(out, as_int(n)) != 1) {
    std::fputs("cluster-kv: the random number generator failed\n", stderr);
    std::abort();
  }
}

void aead_seal(const AeadKey& key, Bytes associated, Bytes plain, std::vector<uint8_t>& out) {
  size_t start = out.size();
  out.resize(start + kAeadNonceBytes + plain.size() + kAeadTagBytes);
  uint8_t* nonce = out.data() + start;
  uint8_t* cipher = nonce + kAeadNonceBytes;
  uint8_t* tag = cipher + plain.size();
  next_nonce(nonce);

  thread_local KeyedContext sealing;
  EVP_CIPHER_CTX* ctx = sealing.start(key, nonce, true);
  int n = 0;
  bool ok = ctx != nullptr &&
            (associated.empty() || EVP_EncryptUpdate(ctx, nullptr, &n, associated.data(),
                                                     as_int(associated.size())) == 1) &&
            (plain.empty() ||
             EVP_EncryptUpdate(ctx, cipher, &n, plain.data(), as_int(plain.size())) == 1) &&
            EVP_EncryptFinal_ex(ctx, cipher + plain.size(), &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, as_int(kAeadTagBytes), tag) == 1;
  if (!ok) {
    std::fputs("cluster-kv: AES-256-GCM sealing failed\n", stderr);
    std::abort();
  }
}

bool aead_open(const AeadKey& key, Bytes associated, Bytes sealed, std::vector<uint8_t>& out) {
  out.clear();
  if (sealed.size() < kAeadOverhead) return false;
  const uint8_t* nonce = sealed.data();
  const uint8_t* cipher = nonce + kAeadNonceBytes;
  size_t cipher_bytes = sealed.size() - kAeadOverhead;
  // The tag is only read, but OpenSSL's API takes a mutable pointer.
  std::array<uint8_t, kAeadTagBytes> tag;
  std::copy_n(cipher + cipher_bytes, kAeadTagBytes, tag.begin());
  out.resize(cipher_bytes);

  thread_local KeyedContext opening;
  EVP_CIPHER_CTX* ctx = opening.start(key, nonce, false);
  int n = 0;
  bool ok =
      ctx != nullptr &&
      (associated.empty() ||
       EVP_DecryptUpdate(ctx, nullptr, &n, associated.data(), as_int(associated.size())) == 1) &&
      (cipher_bytes == 0 ||
       EVP_DecryptUpdate(ctx, out.data(), &n, cipher, as_int(cipher_bytes)) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, as_int(kAeadTagBytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, out.data() + cipher_bytes, &n) == 1;
  if (!ok) out.clear();
  return ok;
}

Result<AeadKey> parse_key_base64(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  std::string padded(text);
  size_t data_chars = padded.find('=');
  if (data_chars == std::string::npos) data_chars = padded.size();
  for (size_t i = 0; i < padded.size(); ++i) {
    bool ok = i < data_chars ? is_base64_char(padded[i]) : padded[i] == '=';
    if (!ok) {
      return Error{ErrorCode::kInvalidArgument,
                   "the key is not base64 (character " + std::to_string(i + 1) + ")"};
    }
  }
  if (padded.size() - data_chars > 2) {
    return Error{ErrorCode::kInvalidArgument, "the key is not base64 (too much padding)"};
  }
  padded.resize(data_chars);
  if (data_chars % 4 == 1) {
    return Error{ErrorCode::kInvalidArgument, "the key is not base64 (bad length)"};
  }
  size_t pad = (4 - data_chars % 4) % 4;
  padded.append(pad, '=');
  size_t decoded_bytes = data_chars * 6 / 8;
  std::vector<uint8_t> decoded(padded.size() / 4 * 3 + 1);
  if (EVP_DecodeBlock(decoded.data(), reinterpret_cast<const uint8_t*>(padded.data()),
                      as_int(padded.size())) < 0) {
    return Error{ErrorCode::kInvalidArgument, "the key is not base64"};
  }
  if (decoded_bytes != kAeadKeyBytes) {
    return Error{ErrorCode::kInvalidArgument,
                 "an AES-256 key is 32 bytes (44 base64 characters); this one is " +
                     std::to_string(decoded_bytes) + " bytes"};
  }
  AeadKey key;
  std::copy_n(decoded.begin(), kAeadKeyBytes, key.begin());
  return key;
}

std::string key_fingerprint(const AeadKey& key) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_bytes = 0;
  EVP_Digest(key.data(), key.size(), digest, &digest_bytes, EVP_sha256(), nullptr);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3]);
  return hex;
}

}  // namespace ckv
