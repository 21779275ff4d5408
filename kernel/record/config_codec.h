// A node's whole configuration (NodeConfig) as bytes, for the start of a recording: a
// replay creates its kernel with exactly the configuration the recorded node ran with.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/node.h"

namespace ckv::record {

void encode_config(const NodeConfig& config, std::vector<uint8_t>& out);
Result<NodeConfig> decode_config(std::span<const uint8_t> bytes);

}  // namespace ckv::record
