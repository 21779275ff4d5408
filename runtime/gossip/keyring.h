// Keyring: the cluster keys a node seals and opens its gossip with.
//
// The first key is the primary: every message is sealed with it. A message is opened
// with whichever key of the ring fits, so keys can be rotated without stopping the
// cluster: (1) add the new key as a second line to every node's keyring file and reload
// (SIGHUP); (2) move it to the first line everywhere and reload; (3) remove the old key
// everywhere and reload. Between steps every node still opens what every other seals.
//
// A keyring file holds one base64 AES-256 key per line; blank lines and lines starting
// with '#' are ignored. A Keyring is immutable: a reload builds a new one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/result.h"
#include "runtime/gossip/aead.h"

namespace ckv {

class Keyring {
 public:
  // A ring of one key, from its base64 form (--encrypt-key).
  static Result<Keyring> from_key(std::string_view base64);
  // The keys of a keyring file; errors name the file and line.
  static Result<Keyring> load(const std::string& path);
  // The keys of a keyring file's text; errors name the line.
  static Result<Keyring> parse(std::string_view text);

  // Appends `plain` sealed with the primary key to `out`.
  void seal(Bytes associated, Bytes plain, std::vector<uint8_t>& out) const;
  // Opens `sealed` with the first key that fits; false if none does.
  bool open(Bytes associated, Bytes sealed, std::vector<uint8_t>& out) const;

  size_t size() const { return keys_.size(); }
  // The keys' fingerprints, primary first, comma-separated ("1a2b3c4d,5e6f7a8b"), as many
  // as fit in a tag's value (256 bytes: 28 keys). Published as the node's tag "ckv.keys".
  std::string fingerprint_list() const;
  // "3 keys, primary 1a2b3c4d (others 5e6f7a8b, ...)": fingerprints only, for logs.
  std::string describe() const;

 private:
  explicit Keyring(std::vector<AeadKey> keys) : keys_(std::move(keys)) {}
  std::vector<AeadKey> keys_;  // never empty; [0] is the primary
};

}  // namespace ckv
