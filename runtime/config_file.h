// ConfigFile: reads a node's configuration file (`cluster-kv --config PATH`) into settings,
// without knowing what the settings mean (options.cpp checks names and values).
//
//   # a comment; blank lines are ignored
//   node-name = web1
//   http = 0.0.0.0:9876
//   join = 10.0.0.2        (a setting that may repeat takes several lines)
//   mdns = false           (switches are true or false)
//   cluster = "my cluster" (quotes keep leading or trailing blanks; they are removed)
//
// Names are the long flags without "--". Every error names the file and line
// ("/etc/cluster-kv/cluster-kv.conf:7: ...") so it can be shown to the operator as is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/result.h"

namespace ckv {

struct ConfigSetting {
  std::string name;
  std::string value;
  std::string where;  // "PATH:LINE", for error messages
};

// The settings of `text` in order; `path` names it in errors. Lines without '=', empty
// names, unbalanced quotes and control characters are errors.
Result<std::vector<ConfigSetting>> parse_config_text(std::string_view text,
                                                     const std::string& path);

// Reads and parses the file at `path` (at most 1 MiB).
Result<std::vector<ConfigSetting>> read_config_file(const std::string& path);

}  // namespace ckv
