// The JSON bodies of the cluster endpoints (Boost.JSON): the member list and health.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/result.h"

#include "runtime/node_driver.h"

namespace ckv {

// {"node": "<self>", "members": [{"name", "address", "state", "incarnation", "self"}, ...],
//  "counts": {"alive": n, "suspect": n, "dead": n, "left": n}}
// `states`: only members in these states are listed (counts are of every member); empty:
// all of them.
std::string members_json(const NodeView& view, const std::vector<MemberState>& states = {});

// The states a `?status=alive,suspect` parameter names; an error for an unknown one.
Result<std::vector<MemberState>> parse_member_states(std::string_view text);

// {"status": "ok" | "joining" | "leaving", "node": "<self>", "joined": bool,
//  "alive_members": n, "epoch": n}
std::string health_json(const NodeView& view, bool leaving);

}  // namespace ckv
