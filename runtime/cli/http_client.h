// HttpClient: one blocking HTTP/1.1 request to a node, for the operator's CLI
// (operator_cli.h). Plain HTTP or HTTPS (the server's certificate checked against --cacert,
// or the system's CAs, and its name or IP address), with an optional bearer token.
//
// Errors are values: a node that cannot be reached, a TLS failure or a timeout comes back
// as an Error whose detail says which, never as an exception.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/core/time.h"

namespace ckv {

// Where a node's HTTP API is: "http://10.0.0.2:9876", "https://node1:9876", "node1"
// (http, port 9876).
struct NodeUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 9876;
  std::string to_string() const;
};
Result<NodeUrl> parse_node_url(std::string_view text);

struct ClientOptions {
  NodeUrl node;
  std::string token;   // empty: no Authorization header
  std::string cacert;  // PEM file of the CA that signed the node's certificate; empty: system's
  Duration timeout = std::chrono::seconds(10);
};

struct ClientResponse {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A header's value (case-insensitive name); empty when absent.
  std::string header(std::string_view name) const;
};

// Sends `method target` with `body` and `headers`, returns the answer.
Result<ClientResponse> http_call(const ClientOptions& options, std::string_view method,
                                 std::string_view target, std::string body = {},
                                 std::vector<std::pair<std::string, std::string>> headers = {});

// A key as a request target: "/" + the key, percent-encoded except for unreserved bytes
// and '/'.
std::string key_target(std::string_view key);

}  // namespace ckv
