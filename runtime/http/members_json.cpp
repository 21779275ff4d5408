#include "runtime/http/members_json.h"

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

std::string members_json(const NodeView& view) {
  json::array members;
  json::object counts{{"alive", 0}, {"suspect", 0}, {"dead", 0}, {"left", 0}};
  for (const MemberInfo& m : view.members) {
    members.push_back(json::object{{"name", m.name},
                                   {"address", m.address.to_string()},
                                   {"state", to_string(m.state)},
                                   {"incarnation", m.incarnation},
                                   {"self", m.self}});
    counts[to_string(m.state)] = counts[to_string(m.state)].as_int64() + 1;
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
