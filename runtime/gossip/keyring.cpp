#include "runtime/gossip/keyring.h"

#include "runtime/text_parse.h"

#include <fstream>
#include <sstream>

namespace ckv {

Result<Keyring> Keyring::from_key(std::string_view base64) {
  auto key = parse_key_base64(base64);
  if (!key) return key.error();
  return Keyring({*key});
}

Result<Keyring> Keyring::parse(std::string_view text) {
  std::vector<AeadKey> keys;
  size_t line_number = 0;
  while (!text.empty()) {
    const std::string_view line = take_line(text);
    line_number++;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto key = parse_key_base64(line);
    if (!key) {
      return Error{ErrorCode::kInvalidArgument,
                   "line " + std::to_string(line_number) + ": " + key.error().detail};
    }
    for (const AeadKey& k : keys) {
      if (k == *key) {
        return Error{ErrorCode::kInvalidArgument,
                     "line " + std::to_string(line_number) + ": the same key is listed twice"};
      }
    }
    keys.push_back(*key);
  }
  if (keys.empty()) return Error{ErrorCode::kInvalidArgument, "no key in it"};
  return Keyring(std::move(keys));
}

Result<Keyring> Keyring::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::kIoError, "cannot read the keyring file " + path};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{ErrorCode::kIoError, "cannot read the keyring file " + path};
  auto ring = parse(text.str());
  if (!ring) return Error{ring.error().code, path + ", " + ring.error().detail};
  return ring;
}

void Keyring::seal(Bytes associated, Bytes plain, std::vector<uint8_t>& out) const {
  aead_seal(keys_.front(), associated, plain, out);
}

bool Keyring::open(Bytes associated, Bytes sealed, std::vector<uint8_t>& out) const {
  for (const AeadKey& key : keys_) {
    if (aead_open(key, associated, sealed, out)) return true;
  }
  return false;
}

std::string Keyring::fingerprint_list() const {
  std::string list;
  for (const AeadKey& key : keys_) {
    const std::string fingerprint = key_fingerprint(key);
    if (list.size() + 1 + fingerprint.size() > 256) break;
    if (!list.empty()) list += ",";
    list += fingerprint;
  }
  return list;
}

std::string Keyring::describe() const {
  std::string text = std::to_string(keys_.size()) + (keys_.size() == 1 ? " key" : " keys") +
                     ", primary " + key_fingerprint(keys_.front());
  for (size_t i = 1; i < keys_.size(); ++i)
    text += (i == 1 ? " (others " : ", ") + key_fingerprint(keys_[i]);
  if (keys_.size() > 1) text += ")";
  return text;
}

}  // namespace ckv
