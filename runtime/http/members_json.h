// The JSON bodies of the cluster endpoints (Boost.JSON): the member list and health.
#pragma once

#include <string>

#include "runtime/node_driver.h"

namespace ckv {

// {"node": "<self>", "members": [{"name", "address", "state", "incarnation", "self"}, ...],
//  "counts": {"alive": n, "suspect": n, "dead": n, "left": n}}
std::string members_json(const NodeView& view);

// {"status": "ok" | "joining" | "leaving", "node": "<self>", "joined": bool,
//  "alive_members": n, "epoch": n}
std::string health_json(const NodeView& view, bool leaving);

}  // namespace ckv
