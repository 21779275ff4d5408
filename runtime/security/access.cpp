#include "runtime/security/access.h"

#include "runtime/text_parse.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace ckv {
namespace {

constexpr size_t kMinTokenBytes = 16;
constexpr size_t kMaxTokenBytes = 512;
constexpr size_t kMaxTokenFileBytes = 4 << 20;

// SHA-256 of `token`; none when OpenSSL fails (out of memory): the caller refuses.
std::optional<TokenTable::Digest> compute_digest(std::string_view token) {
  // Fetched once: EVP_sha256()'s implicit fetch on every call takes a lock that the HTTP
  // threads contend for.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  // One context per thread, reused: EVP_Digest would allocate and free one per call.
  struct Context {
    EVP_MD_CTX* ctx = nullptr;
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  if (context.ctx == nullptr) context.ctx = EVP_MD_CTX_new();  // retried until it works
  TokenTable::Digest out{};
  unsigned int size = 0;
  if (sha256 == nullptr || context.ctx == nullptr ||
      EVP_DigestInit_ex2(context.ctx, sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.ctx, token.data(), token.size()) != 1 ||
      EVP_DigestFinal_ex(context.ctx, out.data(), &size) != 1 || size != out.size()) {
    return std::nullopt;
  }
  return out;
}

// The digest of `token`, remembered for the last two tokens this thread saw: a keep-alive
// client sends the same one with every request, and hashing it each time cost more than
// the rest of the check (measured: tools/secure_bench.sh). The cached tokens are compared
// in constant time, like the digests.
std::optional<TokenTable::Digest> digest_of(std::string_view token) {
  struct Cached {
    std::string token;
    TokenTable::Digest digest{};
  };
  thread_local Cached cache[2];
  thread_local unsigned next = 0;
  for (const Cached& c : cache) {
    if (!c.token.empty() && c.token.size() == token.size() &&
        CRYPTO_memcmp(c.token.data(), token.data(), token.size()) == 0) {
      return c.digest;
    }
  }
  const std::optional<TokenTable::Digest> digest = compute_digest(token);
  if (!digest) return std::nullopt;
  cache[next] = Cached{std::string(token), *digest};
  next ^= 1;
  return digest;
}

// A process-wide count of AccessControl tables installed, so a thread's cached table is
// never mistaken for another instance's.
std::atomic<uint64_t> g_generations{0};

bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
      ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

const char* name_of(Right right) {
  switch (right) {
    case Right::kRead:
      return "read";
    case Right::kWrite:
      return "write";
    case Right::kAdmin:
      return "admin";
  }
  return "?";
}

// The token of an `Authorization: Bearer TOKEN` field; empty when there is none.
std::string_view bearer_token(std::string_view field) {
  constexpr std::string_view kScheme = "bearer";
  if (field.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = field[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  std::string_view rest = field.substr(kScheme.size());
  if (rest.front() != ' ') return {};
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ')
    rest.remove_suffix(1);
  return rest;
}

HttpResponse unauthorized(bool presented) {
  HttpResponse r;
  r.status = 401;
  if (presented) {
    r.body = "unknown token\n";
    r.headers.emplace_back("WWW-Authenticate",
                           "Bearer realm=\"cluster-kv\", error=\"invalid_token\"");
  } else {
    r.body = "this request needs a token: send 'Authorization: Bearer TOKEN'\n";
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"cluster-kv\"");
  }
  return r;
}

HttpResponse forbidden(const Need& need) {
  HttpResponse r;
  r.status = 403;
  r.body = std::string("this token does not have the ") + name_of(need.right) + " right" +
           (need.key_or_prefix ? " for this key or prefix\n" : " without a key prefix\n");
  r.headers.emplace_back("WWW-Authenticate",
                         "Bearer realm=\"cluster-kv\", error=\"insufficient_scope\"");
  return r;
}

}  // namespace

Result<TokenTable> TokenTable::parse(std::string_view text, const std::string& path) {
  TokenTable table;
  size_t line_number = 0;
  while (!text.empty()) {
    const std::string_view line = take_line(text);
    ++line_number;
    auto error = [&](const std::string& what) {
      return Error{ErrorCode::kInvalidArgument,
                   path + ":" + std::to_string(line_number) + ": " + what};
    };
    std::vector<std::string_view> fields = fields_of(line);
    // '#' starts a comment, at the start of a line or of a field after the token.
    auto comment = std::find_if(fields.begin(), fields.end(),
                                [](std::string_view f) { return f.front() == '#'; });
    fields.erase(comment, fields.end());
    if (fields.empty()) continue;
    if (fields.size() < 2 || fields.size() > 3) {
      return error("expected 'TOKEN RIGHT [KEY-PREFIX]'");
    }
    const std::string_view token = fields[0];
    if (token.size() < kMinTokenBytes || token.size() > kMaxTokenBytes) {
      return error("a token must be 16 to 512 characters (make one with `openssl rand -hex 32`)");
    }
    for (char c : token) {
      if (!token_char(c)) return error("a token may hold only A-Z a-z 0-9 - . _ ~ + / =");
    }
    Grant grant;
    const std::optional<Digest> digest = compute_digest(token);
    if (!digest) return error("cannot hash the token (OpenSSL failed: out of memory?)");
    grant.token_digest = *digest;
    table.size_++;
    if (fields[1] == "read") {
      grant.right = Right::kRead;
    } else if (fields[1] == "write") {
      grant.right = Right::kWrite;
    } else if (fields[1] == "admin") {
      grant.right = Right::kAdmin;
    } else {
      return error("the right must be read, write or admin, not '" +
                   std::string(fields[1].substr(0, 40)) + "'");
    }
    if (fields.size() == 3) grant.key_prefix = std::string(fields[2]);
    table.counts_[static_cast<size_t>(grant.right)]++;
    table.by_digest_[grant.token_digest].push_back(std::move(grant));
  }
  if (table.size_ == 0) {
    return Error{ErrorCode::kInvalidArgument,
                 path + ": no token in it (it would refuse every request)"};
  }
  return table;
}

Result<TokenTable> TokenTable::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::kIoError, "cannot read the token file " + path};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{ErrorCode::kIoError, "cannot read the token file " + path};
  std::string content = std::move(text).str();
  if (content.size() > kMaxTokenFileBytes) {
    return Error{ErrorCode::kInvalidArgument, "the token file " + path + " is over 4 MiB"};
  }
  return parse(content, path);
}

size_t TokenTable::DigestHash::operator()(const Digest& d) const {
  size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

std::span<const Grant> TokenTable::grants_of(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return {};
  // The lookup goes by the digest, which an attacker cannot steer towards a known token's
  // (SHA-256 is preimage resistant); the final comparison takes the same time whatever
  // bytes differ.
  const std::optional<Digest> digest = digest_of(token);
  if (!digest) return {};  // cannot tell: refused
  const Digest& presented = *digest;
  auto found = by_digest_.find(presented);
  if (found == by_digest_.end()) return {};
  const Digest& known = found->first;
  if (CRYPTO_memcmp(presented.data(), known.data(), known.size()) != 0) return {};
  return found->second;
}

std::string TokenTable::describe() const {
  return std::to_string(size_) + (size_ == 1 ? " grant (" : " grants (") +
         std::to_string(counts_[3]) + " admin, " + std::to_string(counts_[2]) + " write, " +
         std::to_string(counts_[1]) + " read)";
}

std::optional<Need> need_of(Route route, HttpMethod method, std::string_view key,
                            std::string_view query, bool open_status) {
  switch (route) {
    case Route::kKey: {
      const bool reads =
          method == HttpMethod::kGet || method == HttpMethod::kHead || method == HttpMethod::kOther;
      return Need{reads ? Right::kRead : Right::kWrite, std::string(key)};
    }
    case Route::kKeys:
    case Route::kWatch: {
      auto prefix = query_param(query, "prefix");
      return Need{Right::kRead, prefix ? std::move(*prefix) : std::string()};
    }
    case Route::kHealth:
    case Route::kMetrics:
      if (open_status) return std::nullopt;
      return Need{Right::kAdmin, std::nullopt};
    default:
      return Need{Right::kAdmin, std::nullopt};
  }
}

bool allows(const Grant& grant, const Need& need) {
  if (grant.right < need.right) return false;
  if (grant.key_prefix.empty()) return true;
  return need.key_or_prefix && std::string_view(*need.key_or_prefix).starts_with(grant.key_prefix);
}

AccessControl::AccessControl(TokenTable table, std::string path, bool open_status)
    : table_(std::make_shared<const TokenTable>(std::move(table))),
      generation_(++g_generations),
      path_(std::move(path)),
      open_status_(open_status) {}

const TokenTable* AccessControl::table() const {
  struct Cached {
    uint64_t generation = 0;
    std::shared_ptr<const TokenTable> table;
  };
  thread_local Cached cached;
  const uint64_t now = generation_.load(std::memory_order_acquire);
  if (cached.generation != now) {
    std::lock_guard lock(mutex_);
    cached.table = table_;
    cached.generation = generation_.load(std::memory_order_relaxed);
  }
  return cached.table.get();
}

std::optional<HttpResponse> AccessControl::check(const HttpRequest& request,
                                                 const Need* need) const {
  const std::string_view token = bearer_token(request.authorization);
  if (token.empty()) return unauthorized(/*presented=*/!request.authorization.empty());
  const TokenTable* in_force = table();
  const std::span<const Grant> grants = in_force->grants_of(token);
  if (grants.empty()) return unauthorized(/*presented=*/true);
  if (need == nullptr) return std::nullopt;
  for (const Grant& grant : grants) {
    if (allows(grant, *need)) return std::nullopt;
  }
  return forbidden(*need);
}

Result<std::string> AccessControl::reload() {
  auto table = TokenTable::load(path_);
  if (!table) return table.error();
  std::string described = table->describe();
  std::lock_guard lock(mutex_);
  table_ = std::make_shared<const TokenTable>(std::move(*table));
  generation_.store(++g_generations, std::memory_order_release);
  return described;
}

}  // namespace ckv
