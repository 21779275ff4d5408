#include "runtime/options.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <map>
#include <set>
#include <sstream>

#include "kernel/membership/tags.h"
#include "runtime/build_info.h"
#include "runtime/config_file.h"

namespace ckv {
namespace po = boost::program_options;
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "node";
  return buf;
}

po::options_description run_flags() {
  po::options_description d(
      "cluster-kv: a distributed key-value store node.\n\nUsage:\n"
      "  cluster-kv [flags]                        run a node\n"
      "  cluster-kv backup --data-dir D --to DIR   back up a data directory\n"
      "  cluster-kv members|health|force-leave|keyring|get|put|delete\n"
      "                                            ask a running node (COMMAND --help)\n"
      "  cluster-kv check --node URL ...           check the guarantees on a running cluster\n"
      "\nFlags");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and the build (git describe) and exit")
    ("config", po::value<std::string>(),
     "read settings from this file: one 'name = value' per line, names as these flags "
     "without --, switches as 'mdns = false', '#' comments; flags given here override it "
     "(the packaged service uses /etc/cluster-kv/cluster-kv.conf)")
    ("node-name", po::value<std::string>(),
     "this node's name, unique in the cluster (default: <hostname>-<gossip port>)")
    ("cluster", po::value<std::string>()->default_value("default"),
     "cluster name: mDNS joins only nodes of the same cluster")
    ("http", po::value<std::string>()->default_value("127.0.0.1:9876"),
     "HTTP listen address ADDR:PORT (or :PORT)")
    ("gossip", po::value<std::string>()->default_value("0.0.0.0:7946"),
     "gossip listen address ADDR:PORT, UDP and TCP (or :PORT)")
    ("advertise", po::value<std::string>(),
     "address other nodes reach this one at (default: the gossip address, or this host's "
     "first non-loopback IPv4 address when that is 0.0.0.0)")
    ("join", po::value<std::vector<std::string>>()->composing(),
     "HOST:PORT[,HOST:PORT...] of nodes to join (port default 7946); may repeat")
    ("tag", po::value<std::vector<std::string>>()->composing(),
     "KEY=VALUE: a tag of this node, gossiped to every member and published in mDNS "
     "(shown and filtered by /_cluster/members and `cluster-kv members --tag`); may repeat, "
     "at most 32 tags and 512 bytes")
    ("data-dir", po::value<std::string>(),
     "where RocksDB keeps this node's data (default: ./cluster-kv-data/<node name>)")
    ("mdns", "find peers with mDNS through avahi-daemon (default)")
    ("no-mdns", "do not use mDNS")
    ("query-timeout", po::value<std::string>(),
     "how long a cluster read waits for silent members, e.g. 500ms or 2s "
     "(default: serf's formula, 3.2 s up to 9 nodes); GET ?timeout= overrides it per request")
    ("default-ttl", po::value<std::string>(),
     "time to live of values written without ?ttl=, e.g. 30s, 1h or 7d (default: none, "
     "values never expire)")
    ("tombstone-ttl", po::value<std::string>()->default_value("7d"),
     "how long deletes (tombstones), markers of newer versions and expired values are kept "
     "before they are collected, e.g. 1d (0: for ever). A node cut off from the cluster, or "
     "down, for more than half of it drops its records older than three quarters of it when "
     "it is back, so that it never brings a collected delete back (see the README); below "
     "10m it also caps how long a read may wait (?timeout=) at half of it")
    ("sync", "fsync every write before answering (slower, survives power loss)")
    ("record-cache-mb", po::value<size_t>()->default_value(16),
     "memory for recently read records kept in front of RocksDB, in MiB (0: none)")
    ("max-data-mb", po::value<size_t>()->default_value(0),
     "bytes of values this node keeps, in MiB (0: no bound): copies of values it read are "
     "evicted, least recently used first, to stay within it; its own writes never are, and "
     "one that would pass it is refused (507)")
    ("min-free-disk-mb", po::value<size_t>()->default_value(128),
     "writes are refused (507) while the data directory's filesystem has less free space "
     "than this, in MiB: RocksDB needs room to flush and compact, and cannot run out of it "
     "safely")
    ("http-max-connections", po::value<size_t>()->default_value(10000),
     "HTTP connections served at once; more are answered 503 and closed")
    ("http-read-timeout", po::value<std::string>()->default_value("30s"),
     "time a client has to send a whole request (header and body; else 408) and to read "
     "its response; also how long an idle keep-alive connection stays open")
    ("http-token-file", po::value<std::string>(),
     "require a bearer token on every HTTP request: one 'TOKEN RIGHT [KEY-PREFIX]' per line, "
     "RIGHT read, write (and read) or admin (all, /_cluster/ endpoints included); a request "
     "without a token gets 401, one without the right 403; re-read on SIGHUP")
    ("http-open-status", "with --http-token-file: /_cluster/health and /_cluster/metrics need "
     "no token (for load balancers and Prometheus)")
    ("http-tls-cert", po::value<std::string>(),
     "serve HTTPS: the certificate chain (PEM) for the HTTP port; needs --http-tls-key; both "
     "re-read on SIGHUP")
    ("http-tls-key", po::value<std::string>(), "the private key (PEM) of --http-tls-cert")
    ("encrypt-key", po::value<std::string>(),
     "encrypt and authenticate all gossip with this AES-256 key (32 bytes, base64; make one "
     "with `openssl rand -base64 32`); every node of the cluster needs it")
    ("keyring-file", po::value<std::string>(),
     "like --encrypt-key, but the keys are read from this file, one base64 key per line, the "
     "first one used to encrypt; re-read on SIGHUP, to rotate keys without a restart")
    ("record", po::value<std::string>(),
     "flight recorder: write every input of this node's kernel to this directory, so the "
     "run can be replayed exactly with `cluster-kv-sim --replay` (see the README, \"When "
     "something goes wrong\"); values are masked unless --record-values")
    ("record-mb", po::value<size_t>()->default_value(256),
     "with --record: the recordings in the directory stay within this many MiB (the oldest "
     "segments go first)")
    ("record-values", "with --record: keep values in the recording (keys, names and "
     "addresses are always kept)")
    ("log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error")
    ("restore-from", po::value<std::string>(),
     "restore the data directory from this backup directory before starting "
     "(the data directory must not hold data yet)");
  // clang-format on
  return d;
}

po::options_description backup_flags() {
  po::options_description d(
      "cluster-kv backup: copies a node's data directory with RocksDB's "
      "BackupEngine.\n\nUsage:\n  cluster-kv backup --data-dir D --to DIR"
      "\n\nFlags");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("data-dir", po::value<std::string>(), "the node's data directory")
    ("to", po::value<std::string>(), "backup directory (created if missing; backups accumulate)");
  // clang-format on
  return d;
}

std::string help_of(const po::options_description& d) {
  std::ostringstream out;
  out << d;
  return out.str();
}

Command parse_backup(int argc, const char* const* argv) {
  auto flags = backup_flags();
  po::variables_map vm;
  po::store(po::command_line_parser(argc - 1, argv + 1).options(flags).run(), vm);
  po::notify(vm);
  if (vm.count("help")) return HelpText{help_of(flags)};
  if (!vm.count("data-dir") || !vm.count("to")) {
    return UsageError{"backup needs --data-dir and --to"};
  }
  return BackupOptions{vm["data-dir"].as<std::string>(), vm["to"].as<std::string>()};
}

// Where each setting taken from a config file came from ("PATH:LINE"), by flag name.
using Origins = std::map<std::string, std::string>;

// Adds the settings of the config file at `path` to `vm`, under those the command line
// gave (flags override the file). Unknown names, values of the wrong type and switches
// that are not true/false are errors naming the file and line.
std::optional<UsageError> merge_config_file(const po::options_description& flags,
                                            po::variables_map& vm, const std::string& path,
                                            Origins& origins) {
  auto settings = read_config_file(path);
  if (!settings) return UsageError{settings.error().detail};
  auto given = [&](const std::string& name) { return vm.count(name) && !vm[name].defaulted(); };
  const bool mdns_given = given("mdns") || given("no-mdns");
  std::vector<std::string> tokens;
  for (const ConfigSetting& s : *settings) {
    auto error = [&](const std::string& what) { return UsageError{s.where + ": " + what}; };
    if (s.name == "config" || s.name == "help" || s.name == "version") {
      return error("'" + s.name + "' cannot be set in a config file");
    }
    const po::option_description* d = flags.find_nothrow(s.name, false);
    if (d == nullptr) {
      return error("unknown setting '" + s.name + "' (names are cluster-kv's flags without --)");
    }
    const bool is_mdns = s.name == "mdns" || s.name == "no-mdns";
    if (is_mdns ? mdns_given : given(s.name)) continue;  // the command line's value wins
    std::string token;
    if (d->semantic()->max_tokens() == 0) {
      if (s.value != "true" && s.value != "false") {
        return error("'" + s.name + "' is a switch: true or false, not '" + s.value + "'");
      }
      const bool on = s.value == "true";
      if (s.name == "mdns")
        token = on ? "--mdns" : "--no-mdns";
      else if (s.name == "no-mdns")
        token = on ? "--no-mdns" : "--mdns";
      else if (on)
        token = "--" + s.name;
      else
        continue;  // a switch off is the default
    } else {
      token = "--" + s.name + "=" + s.value;
    }
    const std::string taken = token.substr(2, token.find('=') - 2);
    if (auto seen = origins.find(taken); seen != origins.end() && !d->semantic()->is_composing()) {
      return error("'" + s.name + "' is already set at " + seen->second);
    }
    try {  // each line alone first, so that a value of the wrong type names its line
      po::variables_map one;
      po::store(po::command_line_parser(std::vector<std::string>{token}).options(flags).run(), one);
    } catch (const po::error& e) {
      return error(e.what());
    }
    tokens.push_back(token);
    origins.emplace(taken, s.where);
  }
  try {
    po::store(po::command_line_parser(tokens).options(flags).run(), vm);
  } catch (const po::error& e) {
    return UsageError{path + ": " + e.what()};
  }
  return std::nullopt;
}

// A check of the settings failed: when the flag it names came from the config file, the
// message names the file and line instead.
UsageError attributed(UsageError error, const Origins& origins) {
  const std::string& m = error.message;
  size_t at = m.find("--");
  if (at == std::string::npos) return error;
  size_t end = at + 2;
  while (end < m.size() && ((m[end] >= 'a' && m[end] <= 'z') || m[end] == '-'))
    ++end;
  auto origin = origins.find(m.substr(at + 2, end - at - 2));
  if (origin != origins.end()) error.message = origin->second + ": " + m;
  return error;
}

Command options_from(const po::variables_map& vm);

Command parse_run(int argc, const char* const* argv) {
  auto flags = run_flags();
  po::variables_map vm;
  po::parsed_options parsed = po::command_line_parser(argc, argv).options(flags).run();
  for (const po::option& option : parsed.options) {
    if (option.position_key != -1 || option.string_key.empty()) {
      const std::string word = option.original_tokens.empty() ? "" : option.original_tokens[0];
      return UsageError{
          "unknown command or stray argument '" + word +
          "' (commands: backup, members, health, force-leave, keyring, get, put, delete, check)"};
    }
  }
  po::store(parsed, vm);
  if (vm.count("help")) return HelpText{help_of(flags)};
  if (vm.count("version")) return HelpText{version_text()};
  Origins origins;
  if (vm.count("config")) {
    auto failed = merge_config_file(flags, vm, vm["config"].as<std::string>(), origins);
    if (failed) return *failed;
  }
  po::notify(vm);
  Command command = options_from(vm);
  if (auto* error = std::get_if<UsageError>(&command)) return attributed(*error, origins);
  return command;
}

Command options_from(const po::variables_map& vm) {
  RunOptions o;
  o.cluster = vm["cluster"].as<std::string>();
  if (o.cluster.empty() || o.cluster.size() > 63) {
    return UsageError{"--cluster must be 1..63 bytes"};
  }
  auto http = parse_listen_address(vm["http"].as<std::string>(), 0x7f000001);
  if (!http) return UsageError{"--http: " + http.error().detail};
  o.http = *http;
  auto gossip = parse_listen_address(vm["gossip"].as<std::string>(), 0);
  if (!gossip) return UsageError{"--gossip: " + gossip.error().detail};
  o.gossip = *gossip;
  if (vm.count("advertise")) {
    auto advertise = Address::parse(vm["advertise"].as<std::string>());
    if (!advertise) return UsageError{"--advertise: " + advertise.error().detail};
    if (advertise->ip == 0) return UsageError{"--advertise: 0.0.0.0 cannot be reached"};
    o.advertise = *advertise;
  }
  if (vm.count("join")) {
    for (const std::string& list : vm["join"].as<std::vector<std::string>>()) {
      std::stringstream items(list);
      std::string item;
      while (std::getline(items, item, ',')) {
        if (item.empty()) continue;
        auto target = parse_host_port(item, kDefaultGossipPort);
        if (!target) return UsageError{"--join: " + target.error().detail};
        o.join.push_back(*target);
      }
    }
  }
  o.node_name = vm.count("node-name") ? vm["node-name"].as<std::string>()
                                      : host_name() + "-" + std::to_string(o.gossip.port);
  if (o.node_name.empty() || o.node_name.size() > 255 ||
      o.node_name.find('/') != std::string::npos) {
    return UsageError{"--node-name must be 1..255 bytes without '/'"};
  }
  o.data_dir =
      vm.count("data-dir") ? vm["data-dir"].as<std::string>() : "cluster-kv-data/" + o.node_name;
  if (vm.count("mdns") && vm.count("no-mdns")) {
    return UsageError{"--mdns and --no-mdns contradict each other"};
  }
  o.mdns = !vm.count("no-mdns");
  if (vm.count("tag")) {
    wire::Tags tags;
    for (const std::string& item : vm["tag"].as<std::vector<std::string>>()) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return UsageError{"--tag: '" + item + "' is not KEY=VALUE"};
      if (item.starts_with("ckv.")) {
        return UsageError{"--tag: keys starting with 'ckv.' are the node's own"};
      }
      tags.push_back(wire::Tag{item.substr(0, eq), item.substr(eq + 1)});
    }
    auto normalized = normalize_tags(std::move(tags));
    if (!normalized) return UsageError{"--tag: " + normalized.error().detail};
    o.tags = std::move(*normalized);
  }
  if (vm.count("query-timeout")) {
    auto t = parse_duration(vm["query-timeout"].as<std::string>());
    if (!t) return UsageError{"--query-timeout: " + t.error().detail};
    o.query_timeout = *t;
  }
  if (vm.count("default-ttl")) {
    auto t = parse_duration(vm["default-ttl"].as<std::string>(), kMaxTtl);
    if (!t) return UsageError{"--default-ttl: " + t.error().detail};
    o.default_ttl = *t;
  }
  if (const std::string t = vm["tombstone-ttl"].as<std::string>(); t == "0") {
    o.tombstone_ttl = Duration(0);
  } else {
    auto ttl = parse_duration(t, kMaxTtl);
    if (!ttl) return UsageError{"--tombstone-ttl: " + ttl.error().detail};
    if (*ttl < std::chrono::seconds(1))
      return UsageError{"--tombstone-ttl must be 0 or at least 1s"};
    o.tombstone_ttl = *ttl;
  }
  o.sync = vm.count("sync") > 0;
  o.record_cache_mb = vm["record-cache-mb"].as<size_t>();
  if (o.record_cache_mb > kMaxRecordCacheMb) {
    return UsageError{"--record-cache-mb must be at most " + std::to_string(kMaxRecordCacheMb)};
  }
  o.max_data_mb = vm["max-data-mb"].as<size_t>();
  if (o.max_data_mb > (size_t{1} << 30)) return UsageError{"--max-data-mb is out of range"};
  o.min_free_disk_mb = vm["min-free-disk-mb"].as<size_t>();
  if (o.min_free_disk_mb < 1 || o.min_free_disk_mb > kMaxRecordCacheMb) {
    return UsageError{"--min-free-disk-mb must be in 1.." + std::to_string(kMaxRecordCacheMb)};
  }
  o.http_max_connections = vm["http-max-connections"].as<size_t>();
  if (o.http_max_connections == 0) return UsageError{"--http-max-connections must be at least 1"};
  auto read_timeout = parse_duration(vm["http-read-timeout"].as<std::string>());
  if (!read_timeout) return UsageError{"--http-read-timeout: " + read_timeout.error().detail};
  if (*read_timeout < std::chrono::milliseconds(100)) {
    return UsageError{"--http-read-timeout must be at least 100ms"};
  }
  o.http_read_timeout = *read_timeout;
  // An empty path would quietly turn a protection off: refused.
  for (const char* name :
       {"http-token-file", "http-tls-cert", "http-tls-key", "keyring-file", "encrypt-key"}) {
    if (vm.count(name) && vm[name].as<std::string>().empty()) {
      return UsageError{std::string("--") + name + " is empty"};
    }
  }
  if (vm.count("http-token-file")) o.http_token_file = vm["http-token-file"].as<std::string>();
  o.http_open_status = vm.count("http-open-status") > 0;
  if (o.http_open_status && o.http_token_file.empty()) {
    return UsageError{"--http-open-status needs --http-token-file"};
  }
  if (vm.count("http-tls-cert") != vm.count("http-tls-key")) {
    return UsageError{"--http-tls-cert and --http-tls-key go together"};
  }
  if (vm.count("http-tls-cert")) {
    o.http_tls_cert = vm["http-tls-cert"].as<std::string>();
    o.http_tls_key = vm["http-tls-key"].as<std::string>();
  }
  if (vm.count("encrypt-key") && vm.count("keyring-file")) {
    return UsageError{"--encrypt-key and --keyring-file: give one of them"};
  }
  if (vm.count("encrypt-key")) o.encrypt_key = vm["encrypt-key"].as<std::string>();
  if (vm.count("keyring-file")) o.keyring_file = vm["keyring-file"].as<std::string>();
  if (!parse_log_level(vm["log-level"].as<std::string>(), o.log_level)) {
    return UsageError{"--log-level must be debug, info, warn or error"};
  }
  if (vm.count("restore-from")) o.restore_from = vm["restore-from"].as<std::string>();
  if (vm.count("record")) {
    o.record_dir = vm["record"].as<std::string>();
    if (o.record_dir.empty()) return UsageError{"--record is empty"};
  } else if (vm.count("record-values") || !vm["record-mb"].defaulted()) {
    return UsageError{"--record-mb and --record-values need --record"};
  }
  o.record_mb = vm["record-mb"].as<size_t>();
  if (o.record_mb < 8 || o.record_mb > (size_t{1} << 20)) {
    return UsageError{"--record-mb must be in 8..1048576"};
  }
  o.record_values = vm.count("record-values") > 0;
  return o;
}

}  // namespace

std::string version_text() {
  return "cluster-kv " + std::string(build_version()) + " (" + std::string(build_describe()) +
         ", " + std::string(build_type()) + " build)\n";
}

Command parse_command_line(int argc, const char* const* argv) {
  try {
    if (argc >= 2 && std::string_view(argv[1]) == "backup") return parse_backup(argc, argv);
    return parse_run(argc, argv);
  } catch (const po::error& e) {
    return UsageError{e.what()};
  }
}

}  // namespace ckv
