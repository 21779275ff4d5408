#include "runtime/http/members_json.h"

#include <algorithm>
#include <boost/json.hpp>

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

std::string members_json(const NodeView& view, const std::vector<MemberState>& states) {
  json::array members;
  json::object counts{{"alive", 0}, {"suspect", 0}, {"dead", 0}, {"left", 0}};
  for (const MemberInfo& m : view.members) {
    counts[to_string(m.state)] = counts[to_string(m.state)].as_int64() + 1;
    if (!states.empty() && std::find(states.begin(), states.end(), m.state) == states.end()) {
      continue;
    }
    members.push_back(json::object{{"name", m.name},
                                   {"address", m.address.to_string()},
                                   {"state", to_string(m.state)},
                                   {"incarnation", m.incarnation},
                                   {"self", m.self}});
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
