#include "runtime/cli/operator_cli.h"

#include "runtime/cli/check_command.h"

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/cli/http_client.h"
#include "runtime/text_parse.h"

namespace ckv {
namespace po = boost::program_options;
namespace json = boost::json;

namespace {

enum Exit : int {
  kDone = 0,
  kNo = 1,
  kUsage = 2,
  kUnreachable = 3,
  kRefused = 4,
  kFailed = 5,
};

constexpr std::string_view kCommands[] = {"members", "health", "force-leave", "keyring",
                                          "get",     "put",    "delete",      "check"};

int say(int code, const std::string& message) {
  std::fprintf(stderr, "cluster-kv: %s\n", message.c_str());
  return code;
}

std::string first_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  if (size_t nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

// The exit code of a request that got no answer: bad usage when our own input was wrong
// (a CA file that cannot be used), else the node could not be reached.
int no_answer(const Error& e) {
  return say(e.code == ErrorCode::kInvalidArgument ? kUsage : kUnreachable, e.detail);
}

// The exit code and message of an answer the command did not expect.
int unexpected(const ClientResponse& r) {
  const std::string why = std::to_string(r.status) + ": " + first_line(r.body);
  if (r.status == 401 || r.status == 403) return say(kRefused, "refused, " + why);
  if (r.status == 400 || r.status == 413 || r.status == 405)
    return say(kUsage, "the node says " + why);
  if (r.status == 412) return say(kNo, "precondition failed, " + why);
  return say(kFailed, "the node failed the request, " + why);
}

po::options_description common_flags() {
  po::options_description d("Flags of every command");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("node", po::value<std::string>(),
     "the node's HTTP API: http://HOST:PORT or https://HOST:PORT (default $CLUSTER_KV_NODE, "
     "else http://127.0.0.1:9876)")
    ("token-file", po::value<std::string>(),
     "a file holding the bearer token (default: the token in $CLUSTER_KV_TOKEN, if set)")
    ("cacert", po::value<std::string>(), "the CA certificate (PEM) that signed an https node's")
    ("timeout", po::value<std::string>()->default_value("10s"), "how long to wait for the node");
  // clang-format on
  return d;
}

struct Parsed {
  po::variables_map vm;
  std::vector<std::string> positional;
  ClientOptions client;
};

// Parses a command's flags (its own and the common ones) and positional arguments.
// Returns an exit code when the command should end here (help, a usage error).
std::optional<int> parse(int argc, const char* const* argv, const po::options_description& own,
                         const std::string& usage, Parsed& out) {
  po::options_description all(usage);
  all.add(own).add(common_flags());
  po::options_description with_positional;
  with_positional.add(all).add_options()("args", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("args", -1);
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1)
                  .options(with_positional)
                  .positional(positional)
                  .run(),
              out.vm);
    po::notify(out.vm);
  } catch (const po::error& e) {
    return say(kUsage, std::string(e.what()) + " (see cluster-kv " + argv[1] + " --help)");
  }
  if (out.vm.count("help")) {
    std::cout << all;
    return kDone;
  }
  if (out.vm.count("args")) out.positional = out.vm["args"].as<std::vector<std::string>>();
  std::string node = "http://127.0.0.1:9876";
  if (const char* env = std::getenv("CLUSTER_KV_NODE"); env != nullptr && *env != '\0') node = env;
  if (out.vm.count("node")) node = out.vm["node"].as<std::string>();
  auto url = parse_node_url(node);
  if (!url) return say(kUsage, "--node: " + url.error().detail);
  out.client.node = *url;
  if (out.vm.count("token-file")) {
    const std::string path = out.vm["token-file"].as<std::string>();
    std::ifstream in(path);
    if (!in || !std::getline(in, out.client.token)) {
      return say(kUsage, "--token-file: cannot read a token from " + path);
    }
    while (!out.client.token.empty() &&
           (out.client.token.back() == '\r' || out.client.token.back() == ' ')) {
      out.client.token.pop_back();
    }
  } else if (const char* env = std::getenv("CLUSTER_KV_TOKEN"); env != nullptr) {
    out.client.token = env;
  }
  if (out.vm.count("cacert")) out.client.cacert = out.vm["cacert"].as<std::string>();
  auto timeout = parse_duration(out.vm["timeout"].as<std::string>(), std::chrono::hours(1));
  if (!timeout) return say(kUsage, "--timeout: " + timeout.error().detail);
  out.client.timeout = *timeout;
  return std::nullopt;
}

// Keys the HTTP API cannot take as a key: a usage error here, rather than the answer of
// the endpoint such a path names.
std::optional<int> refuse_key(const std::string& key) {
  if (key.empty()) return say(kUsage, "the key is empty");
  if (key.starts_with("_cluster/")) {
    return say(kUsage, "keys starting with '_cluster/' are reserved for the node's endpoints");
  }
  return std::nullopt;
}

Result<ClientResponse> call(const Parsed& p, std::string_view method, std::string_view target,
                            std::string body = {},
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
  return http_call(p.client, method, target, std::move(body), std::move(headers));
}

using Headers = std::vector<std::pair<std::string, std::string>>;

// --if-match ETAG as an If-Match field (quoted, as ETags are, if it was given bare).
void add_if_match(const Parsed& p, Headers& headers) {
  if (!p.vm.count("if-match")) return;
  std::string etag = p.vm["if-match"].as<std::string>();
  if (!etag.starts_with('"')) etag = "\"" + etag + "\"";
  headers.emplace_back("If-Match", etag);
}

// GETs a member list into `doc` (and its text into `body`); an exit code when it cannot.
std::optional<int> fetch_members(const Parsed& p, const std::string& target, json::value& doc,
                                 std::string& body) {
  auto r = call(p, "GET", target);
  if (!r) return no_answer(r.error());
  if (r->status != 200) return unexpected(*r);
  boost::system::error_code ec;
  doc = json::parse(r->body, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("members") ||
      !doc.at("members").is_array()) {
    return say(kFailed, "the node's member list is not the JSON expected");
  }
  body = std::move(r->body);
  return std::nullopt;
}

// Rows as aligned columns, two blanks apart, the first row the head.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

int members(int argc, const char* const* argv) {
  po::options_description own("Flags");
  own.add_options()("status", po::value<std::string>(),
                    "only members in these states: alive, suspect, dead, left (comma-separated)")(
      "tag", po::value<std::vector<std::string>>()->composing(),
      "KEY=VALUE: only members with this tag (may repeat: all of them)")(
      "json", "print the node's JSON as it is");
  Parsed p;
  if (auto end = parse(argc, argv, own,
                       "cluster-kv members: the cluster's members as one node sees them", p)) {
    return *end;
  }
  if (!p.positional.empty()) return say(kUsage, "members takes no arguments");
  std::string target = "/_cluster/members";
  std::string query;
  if (p.vm.count("status")) {
    query += "&status=" + key_target(p.vm["status"].as<std::string>()).substr(1);
  }
  if (p.vm.count("tag")) {
    for (const std::string& tag : p.vm["tag"].as<std::vector<std::string>>()) {
      query += "&tag=" + key_target(tag).substr(1);  // percent-encoded
    }
  }
  if (!query.empty()) target += "?" + query.substr(1);
  json::value doc;
  std::string body;
  if (auto failed = fetch_members(p, target, doc, body)) return *failed;
  if (p.vm.count("json")) {
    std::fputs(body.c_str(), stdout);
    return kDone;
  }
  std::vector<std::vector<std::string>> rows{{"NAME", "ADDRESS", "STATE", "INCARNATION", "TAGS"}};
  for (const json::value& m : doc.at("members").as_array()) {
    const json::object& o = m.as_object();
    std::string name = json::value_to<std::string>(o.at("name"));
    if (o.at("self").as_bool()) name += " (this node)";
    std::string tags;
    if (const json::value* t = o.if_contains("tags"); t != nullptr && t->is_object()) {
      for (const auto& [key, value] : t->as_object()) {
        if (!tags.empty()) tags += ",";
        tags += std::string(key) + "=" + (value.is_string() ? std::string(value.as_string()) : "");
      }
    }
    rows.push_back({name, json::value_to<std::string>(o.at("address")),
                    json::value_to<std::string>(o.at("state")),
                    std::to_string(o.at("incarnation").to_number<uint64_t>()), tags});
  }
  print_table(rows);
  return kDone;
}

int health(int argc, const char* const* argv) {
  po::options_description own("Flags");
  own.add_options()("json", "print the node's JSON as it is");
  Parsed p;
  if (auto end = parse(argc, argv, own,
                       "cluster-kv health: whether the node serves (exit 0) or not (exit 1)", p)) {
    return *end;
  }
  if (!p.positional.empty()) return say(kUsage, "health takes no arguments");
  auto r = call(p, "GET", "/_cluster/health");
  if (!r) return no_answer(r.error());
  if (r->status != 200 && r->status != 503) return unexpected(*r);
  if (p.vm.count("json")) {
    std::fputs(r->body.c_str(), stdout);
  } else {
    boost::system::error_code ec;
    json::value doc = json::parse(r->body, ec);
    if (ec || !doc.is_object()) return say(kFailed, "the node's health is not the JSON expected");
    const json::object& o = doc.as_object();
    std::string line = json::value_to<std::string>(o.at("status")) + ": node " +
                       json::value_to<std::string>(o.at("node")) + ", " +
                       std::to_string(o.at("alive_members").to_number<int64_t>()) +
                       " members alive";
    if (o.contains("degraded")) line += "; " + json::value_to<std::string>(o.at("degraded"));
    std::printf("%s\n", line.c_str());
  }
  return r->status == 200 ? kDone : kNo;
}

int force_leave(int argc, const char* const* argv) {
  po::options_description own("Flags");
  Parsed p;
  if (auto end = parse(argc, argv, own,
                       "cluster-kv force-leave NAME: marks a failed member left at once, so no "
                       "member tries to reach it again (refused, exit 1, for a member alive or "
                       "suspect)",
                       p)) {
    return *end;
  }
  if (p.positional.size() != 1) return say(kUsage, "force-leave takes one member NAME");
  auto r = call(p, "POST", "/_cluster/force-leave?node=" + key_target(p.positional[0]).substr(1));
  if (!r) return no_answer(r.error());
  if (r->status == 404 || r->status == 409) return say(kNo, "refused: " + first_line(r->body));
  if (r->status != 200) return unexpected(*r);
  std::printf("%s is marked left\n", p.positional[0].c_str());
  return kDone;
}

// The members' gossip keys, from the fingerprints each publishes in its tag "ckv.keys".
int keyring(int argc, const char* const* argv) {
  po::options_description own("Flags");
  Parsed p;
  if (auto end = parse(argc, argv, own,
                       "cluster-kv keyring: which gossip keys (fingerprints, never the keys) "
                       "each alive member uses; exit 1 while they disagree on the primary key",
                       p)) {
    return *end;
  }
  if (!p.positional.empty()) return say(kUsage, "keyring takes no arguments");
  json::value doc;
  std::string body;
  if (auto failed = fetch_members(p, "/_cluster/members?status=alive", doc, body)) return *failed;
  std::vector<std::vector<std::string>> rows{{"NAME", "PRIMARY", "KEYS"}};
  std::map<std::string, size_t> primaries;
  for (const json::value& m : doc.at("members").as_array()) {
    const json::object& o = m.as_object();
    std::string keys = "plaintext";
    if (const json::value* t = o.if_contains("tags"); t != nullptr && t->is_object()) {
      if (const json::value* k = t->as_object().if_contains("ckv.keys"); k && k->is_string()) {
        keys = std::string(k->as_string());
      }
    }
    const std::string primary = keys.substr(0, keys.find(','));
    primaries[primary]++;
    rows.push_back({json::value_to<std::string>(o.at("name")), primary, keys});
  }
  print_table(rows);
  if (primaries.size() > 1) {
    std::string counts;
    for (const auto& [key, n] : primaries) {
      counts += (counts.empty() ? "" : ", ") + key + " on " + std::to_string(n);
    }
    return say(kNo, "the members disagree on the primary key: " + counts);
  }
  return kDone;
}

int get(int argc, const char* const* argv) {
  po::options_description own("Flags");
  Parsed p;
  if (auto end = parse(argc, argv, own,
                       "cluster-kv get KEY: writes the value's bytes to stdout (exit 1: no such "
                       "key)",
                       p)) {
    return *end;
  }
  if (p.positional.size() != 1) return say(kUsage, "get takes one KEY");
  if (auto refused = refuse_key(p.positional[0])) return *refused;
  auto r = call(p, "GET", key_target(p.positional[0]));
  if (!r) return no_answer(r.error());
  if (r->status == 404) return say(kNo, "no such key: " + p.positional[0]);
  if (r->status != 200) return unexpected(*r);
  std::fwrite(r->body.data(), 1, r->body.size(), stdout);
  return kDone;
}

int put(int argc, const char* const* argv) {
  po::options_description own("Flags");
  // clang-format off
  own.add_options()
    ("content-type", po::value<std::string>(), "the value's media type")
    ("ttl", po::value<std::string>(), "the value expires after this long, e.g. 30s or 1h")
    ("if-match", po::value<std::string>(), "write only if the key's ETag is this one (exit 1 if not)")
    ("create-only", "write only if the key does not exist (exit 1 if it does)");
  // clang-format on
  Parsed p;
  if (auto end = parse(argc, argv, own,
                       "cluster-kv put KEY [VALUE]: stores VALUE (none given: stdin) and prints "
                       "its ETag",
                       p)) {
    return *end;
  }
  if (p.positional.empty() || p.positional.size() > 2) return say(kUsage, "put takes KEY [VALUE]");
  if (auto refused = refuse_key(p.positional[0])) return *refused;
  std::string value;
  if (p.positional.size() == 2) {
    value = p.positional[1];
  } else {
    value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (p.vm.count("content-type"))
    headers.emplace_back("Content-Type", p.vm["content-type"].as<std::string>());
  add_if_match(p, headers);
  if (p.vm.count("create-only")) headers.emplace_back("If-None-Match", "*");
  std::string target = key_target(p.positional[0]);
  if (p.vm.count("ttl")) target += "?ttl=" + key_target(p.vm["ttl"].as<std::string>()).substr(1);
  auto r = call(p, "PUT", target, std::move(value), std::move(headers));
  if (!r) return no_answer(r.error());
  if (r->status != 200) return unexpected(*r);
  std::printf("%s\n", r->header("ETag").c_str());
  return kDone;
}

int remove(int argc, const char* const* argv) {
  po::options_description own("Flags");
  own.add_options()("if-match", po::value<std::string>(),
                    "delete only if the key's ETag is this one (exit 1 if not)");
  Parsed p;
  if (auto end = parse(argc, argv, own, "cluster-kv delete KEY (exit 1: no such key)", p)) {
    return *end;
  }
  if (p.positional.size() != 1) return say(kUsage, "delete takes one KEY");
  if (auto refused = refuse_key(p.positional[0])) return *refused;
  std::vector<std::pair<std::string, std::string>> headers;
  add_if_match(p, headers);
  auto r = call(p, "DELETE", key_target(p.positional[0]), {}, std::move(headers));
  if (!r) return no_answer(r.error());
  if (r->status == 404) return say(kNo, "no such key: " + p.positional[0]);
  if (r->status != 200) return unexpected(*r);
  return kDone;
}

int run_command(int argc, const char* const* argv) {
  const std::string_view command = argv[1];
  if (command == "members") return members(argc, argv);
  if (command == "health") return health(argc, argv);
  if (command == "force-leave") return force_leave(argc, argv);
  if (command == "keyring") return keyring(argc, argv);
  if (command == "get") return get(argc, argv);
  if (command == "put") return put(argc, argv);
  if (command == "delete") return remove(argc, argv);
  if (command == "check") return run_check_command(argc, argv);
  return say(kUsage, "unknown command '" + std::string(command) + "'");
}

}  // namespace

bool is_operator_command(std::string_view name) {
  for (std::string_view c : kCommands) {
    if (c == name) return true;
  }
  return false;
}

int run_operator_command(int argc, const char* const* argv) {
  try {
    return run_command(argc, argv);
  } catch (const std::exception& e) {
    // A member list of another shape than expected (another version of the node, or not
    // a node at all): said, not a crash.
    return say(kFailed, std::string("the node's answer is not what was expected: ") + e.what());
  }
}

}  // namespace ckv
