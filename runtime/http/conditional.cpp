#include "runtime/http/conditional.h"

#include "runtime/text_parse.h"

namespace ckv {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The next ETag of a list, and whether it was weak; false at the end or on junk (what
// follows junk is not trusted: a malformed list matches nothing).
bool next_etag(std::string_view& list, std::string_view& tag, bool& weak) {
  list = trim(list);
  while (!list.empty() && list.front() == ',')
    list = trim(list.substr(1));
  if (list.empty()) return false;
  weak = list.substr(0, 2) == "W/";
  if (weak) list.remove_prefix(2);
  if (list.empty() || list.front() != '"') return false;
  const size_t close = list.find('"', 1);
  if (close == std::string_view::npos) return false;
  tag = list.substr(0, close + 1);
  list.remove_prefix(close + 1);
  return true;
}

}  // namespace

bool etag_listed(std::string_view list, std::string_view etag, bool weak) {
  if (trim(list) == "*") return true;
  std::string_view tag;
  bool tag_weak = false;
  while (next_etag(list, tag, tag_weak)) {
    if (tag == etag && (weak || !tag_weak)) return true;
  }
  return false;
}

std::optional<HttpResponse> conditional_read(const HttpConditions& conditions, const Reply& reply) {
  const bool has_value = reply.status == ReplyStatus::kOk;
  if (reply.status != ReplyStatus::kOk && reply.status != ReplyStatus::kNotFound) {
    return std::nullopt;  // an error or a timeout is answered as such
  }
  if (!conditions.if_match.empty()) {
    const bool holds = has_value && etag_listed(conditions.if_match, etag_of(reply.version),
                                                /*weak=*/false);
    if (!holds) {
      HttpResponse r = key_response(HttpMethod::kGet, reply, std::nullopt, false);
      r.status = 412;
      r.body = "precondition failed: If-Match names no current version\n";
      r.content_type = "text/plain; charset=utf-8";
      return r;
    }
  }
  if (!has_value) return std::nullopt;
  bool not_modified = false;
  if (!conditions.if_none_match.empty()) {
    not_modified = etag_listed(conditions.if_none_match, etag_of(reply.version), /*weak=*/true);
  } else if (!conditions.if_modified_since.empty()) {
    const std::optional<int64_t> since = parse_http_date(conditions.if_modified_since);
    not_modified = since && last_modified_seconds(reply.version) <= *since;
  }
  if (!not_modified) return std::nullopt;
  HttpResponse r = key_response(HttpMethod::kGet, reply, std::nullopt, false);
  r.status = 304;
  r.body.clear();
  r.content_type = nullptr;
  return r;
}

namespace {

// The versions a list of ETags names: ours are "<version>"; a weak ETag, or one that is
// not ours, names no version (so it matches nothing, as the RFC's strong comparison says).
// False if the list is malformed or names too many.
bool listed_versions(std::string_view list, std::vector<Version>& out) {
  std::string_view tag;
  bool weak = false;
  while (next_etag(list, tag, weak)) {
    Version v;
    if (!weak && parse_version(tag.substr(1, tag.size() - 2), v)) out.push_back(v);
    if (out.size() > WriteCondition::kMaxVersions) return false;
  }
  return trim(list).empty();
}

}  // namespace

Result<WriteCondition> write_condition(const HttpConditions& conditions) {
  WriteCondition c;
  const bool match = !conditions.if_match.empty();
  const bool none_match = !conditions.if_none_match.empty();
  if (!match && !none_match) return c;
  if (match && none_match) {
    return Error{ErrorCode::kInvalidArgument, "a write takes If-Match or If-None-Match, not both"};
  }
  const std::string_view list = trim(match ? conditions.if_match : conditions.if_none_match);
  if (list == "*") {
    c.kind = match ? WriteCondition::Kind::kExists : WriteCondition::Kind::kAbsent;
    return c;
  }
  c.kind = match ? WriteCondition::Kind::kMatch : WriteCondition::Kind::kNotMatch;
  if (!listed_versions(list, c.versions)) {
    return Error{ErrorCode::kInvalidArgument,
                 std::string(match ? "If-Match" : "If-None-Match") +
                     " must be * or a comma-separated list of at most " +
                     std::to_string(WriteCondition::kMaxVersions) + " quoted ETags"};
  }
  return c;
}

}  // namespace ckv
