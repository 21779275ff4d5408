// Options: the `cluster-kv` command line, parsed into values (Boost.Program_options).
//
//   cluster-kv [flags] [--config FILE]              run a node
//   cluster-kv --version                            print the version and build
//   cluster-kv backup --data-dir D --to DIR         back up a node's data directory
//
// parse_command_line never exits and never throws: bad input comes back as an error line
// for the caller to print (exit code 2), `--help` as the text to print (exit code 0).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/time.h"
#include "kernel/kv/config.h"
#include "kernel/wire/messages.h"
#include "runtime/log.h"
#include "runtime/text_parse.h"

namespace ckv {

inline constexpr uint16_t kDefaultGossipPort = 7946;
inline constexpr uint16_t kDefaultHttpPort = 9876;
inline constexpr size_t kMaxRecordCacheMb = 65536;  // --record-cache-mb: 64 GiB

struct RunOptions {
  std::string node_name;  // default: <hostname>-<gossip port>, unique per port on a machine
  std::string cluster = "default";
  Address http{0x7f000001, kDefaultHttpPort};  // 127.0.0.1:9876
  Address gossip{0, kDefaultGossipPort};       // 0.0.0.0:7946, UDP and TCP
  std::optional<Address> advertise;            // default: derived from `gossip`
  std::vector<HostPort> join;
  std::string data_dir;  // default: ./cluster-kv-data/<node name>
  bool mdns = true;
  wire::Tags tags;                        // --tag, sorted by key (kernel/membership/tags.h)
  std::optional<Duration> query_timeout;  // default: the kernel's (serf's formula)
  std::optional<Duration> default_ttl;    // default: values never expire
  Duration tombstone_ttl = std::chrono::hours(24 * 7);  // KvConfig::tombstone_horizon; 0: keep
  bool sync = false;
  std::string record_dir;  // --record: empty: no flight recorder
  size_t record_mb = 256;
  bool record_values = false;
  size_t record_cache_mb = 16;    // RocksStore's record cache; 0: none
  size_t min_free_disk_mb = 128;  // RocksStore refuses writes below this much free space
  size_t max_data_mb = 0;         // KvConfig::max_data_bytes in MiB; 0: no bound
  std::string encrypt_key;        // base64; empty: see keyring_file
  std::string keyring_file;       // empty: gossip in plaintext unless encrypt_key is set
  LogLevel log_level = LogLevel::kInfo;
  std::string restore_from;
  size_t http_max_connections = 10000;
  Duration http_read_timeout = std::chrono::seconds(30);
  std::string http_token_file;    // empty: no tokens needed (runtime/security/access.h)
  bool http_open_status = false;  // health and metrics need no token
  std::string http_tls_cert;      // both set: HTTPS on the HTTP port
  std::string http_tls_key;
};

struct BackupOptions {
  std::string data_dir;
  std::string to;
};

struct HelpText {
  std::string text;
};
struct UsageError {
  std::string message;  // one line
};

using Command = std::variant<RunOptions, BackupOptions, HelpText, UsageError>;

// `cluster-kv --help` and `cluster-kv --config FILE` (settings the flags do not give;
// errors name the file and line); `--version` comes back as the HelpText version_text().
Command parse_command_line(int argc, const char* const* argv);

// "cluster-kv 0.1.0 (32e9787, Release build)\n"
std::string version_text();

}  // namespace ckv
