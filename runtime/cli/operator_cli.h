// The operator's command line: `cluster-kv COMMAND ...` talks to a node's HTTP API, so
// scripts and people need neither curl nor JSON tools.
//
//   cluster-kv members [--status S,...] [--tag K=V] [--json]   the members, as a table
//   cluster-kv health [--json]                                 the node's health
//   cluster-kv force-leave NAME                                a failed member: left at once
//   cluster-kv keyring                                         each member's gossip keys
//   cluster-kv get KEY                                         the value, on stdout
//   cluster-kv put KEY [VALUE]                                 (no VALUE: stdin) prints the ETag
//   cluster-kv delete KEY
//   cluster-kv check --node URL ...                            the guarantees, checked on a
//                                                              live cluster (check_command.h)
// Every command takes --node URL (default $CLUSTER_KV_NODE, else http://127.0.0.1:9876),
// --token-file FILE (default: $CLUSTER_KV_TOKEN holds the token itself), --cacert FILE
// (for https://) and --timeout D (default 10s).
//
// Exit codes, for scripts:
//   0  done
//   1  the answer is no: no such key (get, delete), the node is not healthy (health), a
//      precondition failed (--if-match, --if-none-match), a force-leave refused (the
//      member is alive or suspect, or unknown), members disagreeing on the primary key
//      (keyring)
//   2  bad usage: unknown command or flag, a key the node refuses (400)
//   3  the node could not be reached: connection, TLS, no answer within --timeout
//   4  refused: the token is missing or lacks the right (401, 403)
//   5  the node failed the request: any other answer (503, 504, 507, ...)
#pragma once

#include <string_view>

namespace ckv {

// Whether argv[1] names an operator command rather than flags of a node.
bool is_operator_command(std::string_view name);

// Runs the command in argv[1]; returns the exit code.
int run_operator_command(int argc, const char* const* argv);

}  // namespace ckv
