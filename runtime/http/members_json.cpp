#include "runtime/http/members_json.h"

#include <algorithm>
#include <boost/json.hpp>

#include "kernel/membership/tags.h"
#include "runtime/http/http_api.h"

namespace ckv {
namespace json = boost::json;

namespace {

std::string self_name(const NodeView& view) {
  for (const MemberInfo& m : view.members) {
    if (m.self) return m.name;
  }
  return "";
}

}  // namespace

Result<std::vector<MemberState>> parse_member_states(std::string_view text) {
  std::vector<MemberState> states;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    bool known = false;
    for (size_t i = 0; i < wire::kMemberStateCount; ++i) {
      if (name == to_string(static_cast<MemberState>(i))) {
        states.push_back(static_cast<MemberState>(i));
        known = true;
      }
    }
    if (!known) {
      return Error{ErrorCode::kInvalidArgument, "status: '" + std::string(name.substr(0, 40)) +
                                                    "' is not alive, suspect, dead or left"};
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return states;
}

std::string forced_out_json(std::string_view node) {
  return json::serialize(json::object{{"node", node}, {"state", "left"}}) + "\n";
}

Result<MemberFilter> member_filter(std::string_view query) {
  MemberFilter filter;
  auto status = query_param(query, "status");
  if (!status) return status.error();
  auto states = parse_member_states(*status);
  if (!states) return states.error();
  filter.states = std::move(*states);
  for (const std::string& raw : query_params(query, "tag")) {
    auto tag = percent_decode(raw);
    if (!tag) return Error{ErrorCode::kInvalidArgument, "tag: " + tag.error().detail};
    const size_t eq = tag->find('=');
    if (eq == std::string::npos) {
      return Error{ErrorCode::kInvalidArgument,
                   "tag: '" + tag->substr(0, 80) + "' is not KEY=VALUE"};
    }
    filter.tags.push_back(wire::Tag{tag->substr(0, eq), tag->substr(eq + 1)});
  }
  return filter;
}

std::string members_json(const NodeView& view, const MemberFilter& filter) {
  json::array members;
  json::object counts{{"alive", 0}, {"suspect", 0}, {"dead", 0}, {"left", 0}};
  for (const MemberInfo& m : view.members) {
    counts[to_string(m.state)] = counts[to_string(m.state)].as_int64() + 1;
    if (!filter.states.empty() &&
        std::find(filter.states.begin(), filter.states.end(), m.state) == filter.states.end()) {
      continue;
    }
    const bool tagged =
        std::all_of(filter.tags.begin(), filter.tags.end(),
                    [&](const wire::Tag& t) { return has_tag(m.tags, t.key, t.value); });
    if (!tagged) continue;
    json::object tags;
    for (const wire::Tag& t : m.tags)
      tags[t.key] = t.value;
    members.push_back(json::object{{"name", m.name},
                                   {"address", m.address.to_string()},
                                   {"state", to_string(m.state)},
                                   {"incarnation", m.incarnation},
                                   {"self", m.self},
                                   {"tags", std::move(tags)}});
  }
  json::object out{
      {"node", self_name(view)}, {"members", std::move(members)}, {"counts", std::move(counts)}};
  return json::serialize(out) + "\n";
}

std::string health_json(const NodeView& view, bool leaving) {
  int64_t alive = 0;
  for (const MemberInfo& m : view.members)
    alive += m.state == MemberState::kAlive ? 1 : 0;
  const bool degraded = !view.store_error.empty();
  const char* status = leaving        ? "leaving"
                       : !view.joined ? "joining"
                       : degraded     ? "degraded"
                                      : "ok";
  json::object out{{"status", status},
                   {"node", self_name(view)},
                   {"joined", view.joined},
                   {"alive_members", alive},
                   {"epoch", view.epoch}};
  // Reads are served; writes are refused until the store takes them again.
  if (degraded) out["degraded"] = "the store refuses writes: " + view.store_error;
  return json::serialize(out) + "\n";
}

}  // namespace ckv
