#include "runtime/http/listing.h"

#include <charconv>

#include "kernel/kv/key_value.h"
#include "runtime/http/http_api.h"

namespace ckv {

namespace {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // cut short
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

// `s` (valid UTF-8) as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=') {
      pad++;
      continue;
    } else
      return std::nullopt;
    if (pad > 0) return std::nullopt;  // '=' only at the end
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

}  // namespace

void append_json_key(std::string& out, std::string_view key) {
  if (valid_utf8(key)) {
    out += "\"key\":";
    append_json_string(out, key);
  } else {
    out += "\"key_base64\":";
    append_json_string(out, base64(key));
  }
}

std::string base64(std::string_view bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += digits[(v >> 6) & 63];
    out += digits[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<ListParams> list_params(std::string_view query, size_t max_key_bytes) {
  ListParams p;
  auto text = [&](const char* name, std::string& out) -> Status {
    auto value = query_param(query, name);
    if (!value)
      return Error{ErrorCode::kInvalidArgument, std::string(name) + ": " + value.error().detail};
    if (value->size() > max_key_bytes) {
      return Error{ErrorCode::kInvalidArgument,
                   std::string(name) + ": at most " + std::to_string(max_key_bytes) + " bytes"};
    }
    out = std::move(*value);
    return {};
  };
  if (Status s = text("prefix", p.prefix); !s.ok()) return s.error();
  if (Status s = text("after", p.after); !s.ok()) return s.error();
  std::string after64;
  if (Status s = text("after_base64", after64); !s.ok()) return s.error();
  if (!after64.empty()) {
    auto decoded = unbase64(after64);
    if (!decoded || !p.after.empty()) {
      return Error{ErrorCode::kInvalidArgument,
                   "after_base64: standard base64, and not with after"};
    }
    p.after = std::move(*decoded);
  }
  std::string limit;
  if (Status s = text("limit", limit); !s.ok()) return s.error();
  if (!limit.empty()) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (ec != std::errc() || end != limit.data() + limit.size() || n < 1 ||
        n > KeyValue::kMaxListLimit) {
      return Error{ErrorCode::kInvalidArgument,
                   "limit: a whole number from 1 to " + std::to_string(KeyValue::kMaxListLimit)};
    }
    p.limit = n;
  }
  p.limited = !limit.empty();
  auto timeout = duration_param(query, "timeout", std::chrono::hours(1));
  if (!timeout) return timeout.error();
  p.timeout = *timeout;
  if (has_param(query, "values")) {
    auto values = query_param(query, "values");
    if (!values || !(values->empty() || *values == "true" || *values == "1")) {
      return Error{ErrorCode::kInvalidArgument, "values: give it alone (?values), or true or 1"};
    }
    p.values = true;
  }
  return p;
}

namespace {

// `"next":...` (and `"next_base64"` for a key that is not UTF-8); null when empty.
void append_next(std::string& out, std::string_view next) {
  out += "\"next\":";
  if (next.empty()) {
    out += "null";
  } else if (valid_utf8(next)) {
    append_json_string(out, next);
  } else {
    out += "null,\"next_base64\":";  // continue with &after_base64=
    append_json_string(out, base64(next));
  }
}

}  // namespace

std::string export_lines(const Reply& page) {
  std::string out;
  for (const ListedKey& k : page.keys) {
    out.reserve(out.size() + 96 + k.key.size() + k.value.size() * 4 / 3 + k.content.bytes());
    out += '{';
    append_json_key(out, k.key);
    out += ",\"etag\":";
    append_json_string(out, etag_of(k.version));
    out += ",\"size\":" + std::to_string(k.size);
    out += ",\"value\":";
    append_json_string(out, base64(k.value));
    if (!k.content.media.empty()) {
      out += ",\"content_type\":";  // printable ASCII (valid_content_type): JSON as it is
      append_json_string(out, k.content.media);
    }
    if (!k.content.encoding.empty()) {
      out += ",\"content_encoding\":";
      append_json_string(out, k.content.encoding);
    }
    if (k.expires_us != 0) out += ",\"expires_us\":" + std::to_string(k.expires_us);
    out += "}\n";
  }
  return out;
}

std::string export_end(std::string_view next, bool current, std::string_view error) {
  std::string out = "{";
  if (!error.empty()) {
    out += "\"error\":";
    append_json_string(out, valid_utf8(error) ? error : std::string_view("(not UTF-8)"));
    out += ',';
  }
  append_next(out, next);
  if (error.empty()) {
    out += ",\"current\":";
    out += current ? "true" : "false";
  }
  out += "}\n";
  return out;
}

std::string listing_json(const Reply& reply) {
  std::string out = "{\"keys\":[";
  bool first = true;
  for (const ListedKey& k : reply.keys) {
    if (!first) out += ',';
    first = false;
    out += '{';
    append_json_key(out, k.key);
    out += ",\"etag\":";
    append_json_string(out, etag_of(k.version));
    out += ",\"size\":" + std::to_string(k.size) + '}';
  }
  out += "],";
  append_next(out, reply.next);
  out += ",\"current\":";
  out += reply.current ? "true" : "false";
  out += "}\n";
  return out;
}

}  // namespace ckv
