// Access: who may do what through the HTTP API (--http-token-file).
//
// A token file holds one grant per line, `TOKEN RIGHT [KEY-PREFIX]`, '#' comments:
//
//   # the web servers read and write sessions; the report job only reads
//   3f9c...e1  write  session/
//   77ab...02  read
//   c0de...9a  admin
//
// RIGHT is `read` (GET/HEAD of keys, listings and watches), `write` (read, plus PUT, POST
// and DELETE) or `admin` (write, plus the /_cluster/ endpoints: members, health, metrics).
// A KEY-PREFIX limits a grant's key operations to keys that start with it (a listing or
// watch must then ask for a prefix within it). One token may have several lines; any of
// its grants that allows a request allows it. Tokens are 16 to 512 characters of
// [A-Za-z0-9-._~+/=] (RFC 6750's token68; make one with `openssl rand -hex 32`).
//
// A request presents its token as `Authorization: Bearer TOKEN`. Without one, or with an
// unknown one, it is answered 401 with `WWW-Authenticate: Bearer`; a known token without
// the right gets 403. Tokens are kept only as SHA-256 digests: a presented token is hashed
// and its digest looked up, then compared in constant time, so how long a check takes
// says nothing about how much of a token was right. Tokens are never logged.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernel/core/result.h"
#include "runtime/http/http_api.h"

namespace ckv {

enum class Right : uint8_t { kRead = 1, kWrite = 2, kAdmin = 3 };  // each implies the lower

struct Grant {
  std::array<uint8_t, 32> token_digest{};
  Right right = Right::kRead;
  std::string key_prefix;  // empty: every key
};

class TokenTable {
 public:
  // The grants of a token file's text; errors name `path` and the line (never the token).
  static Result<TokenTable> parse(std::string_view text, const std::string& path);
  static Result<TokenTable> load(const std::string& path);

  using Digest = std::array<uint8_t, 32>;
  // The grants of `token` (empty: an unknown token), in time independent of which of its
  // bytes match a known token's.
  std::span<const Grant> grants_of(std::string_view token) const;
  size_t size() const { return size_; }
  // "3 grants (1 admin, 1 write, 1 read)", for the log.
  std::string describe() const;

 private:
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  // By the token's digest: its grants, in file order.
  std::unordered_map<Digest, std::vector<Grant>, DigestHash> by_digest_;
  size_t size_ = 0;
  size_t counts_[4] = {};  // by Right
};

// What a request needs, from its route, method and (for keys, listings and watches) the
// key or prefix it touches.
struct Need {
  Right right = Right::kAdmin;
  std::optional<std::string> key_or_prefix;  // none: an endpoint that is not about keys
};
// None when the request needs no token at all (health and metrics, when left open).
// Endpoints that are not about keys need an admin grant without a key prefix.
std::optional<Need> need_of(Route route, HttpMethod method, std::string_view key,
                            std::string_view query, bool open_status);
// Whether `grant` allows `need`.
bool allows(const Grant& grant, const Need& need);

// The token table in force, swapped whole on reload (SIGHUP); shared by every connection.
class AccessControl {
 public:
  // `open_status`: /_cluster/health and /_cluster/metrics need no token.
  AccessControl(TokenTable table, std::string path, bool open_status);

  // None: the request may proceed. Otherwise the 401 or 403 to answer. `need` null: the
  // request could not be routed (it will get a 400): any known token will do.
  std::optional<HttpResponse> check(const HttpRequest& request, const Need* need) const;
  bool open_status() const { return open_status_; }
  // Re-reads the token file; on error the table in force stays.
  Result<std::string> reload();

 private:
  // The table in force. Each thread keeps its own reference and takes the new one when
  // `generation_` moves, so a request touches no shared counter.
  // The pointer stays valid on this thread until its next call.
  const TokenTable* table() const;

  mutable std::mutex mutex_;  // guards table_
  std::shared_ptr<const TokenTable> table_;
  std::atomic<uint64_t> generation_;
  std::string path_;
  bool open_status_;
};

}  // namespace ckv
