// The JSON bodies of the cluster endpoints (Boost.JSON): the member list and health.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/result.h"

#include "runtime/node_driver.h"

namespace ckv {

// {"node": "<self>", "members": [{"name", "address", "state", "incarnation", "self",
//  "tags": {"key": "value", ...}}, ...], "counts": {"alive": n, "suspect": n, "dead": n,
//  "left": n}}
// Only members in one of `filter.states` (none: any) holding every tag of `filter.tags`
// are listed; counts are of every member.
struct MemberFilter {
  std::vector<MemberState> states;
  wire::Tags tags;
};
std::string members_json(const NodeView& view, const MemberFilter& filter = {});

// {"node": "<name>", "state": "left"}: the answer to a force-leave.
std::string forced_out_json(std::string_view node);

// The filter of `?status=alive,suspect&tag=role=cache&tag=az=1`; an error naming the bad
// parameter.
Result<MemberFilter> member_filter(std::string_view query);

// The states a `?status=alive,suspect` parameter names; an error for an unknown one.
Result<std::vector<MemberState>> parse_member_states(std::string_view text);

// {"status": "ok" | "joining" | "leaving", "node": "<self>", "joined": bool,
//  "alive_members": n, "epoch": n}
std::string health_json(const NodeView& view, bool leaving);

}  // namespace ckv
