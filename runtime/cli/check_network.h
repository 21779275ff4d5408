// CheckNetwork: a private LAN of network namespaces for the test cluster of
// `cluster-kv check --start N --faults partition`, so that the check can cut it in two.
//
// Host i is the namespace ckvcheck<pid>-h<i>. Its eth0 (10.215.0.<i+1>/24, the cluster's
// gossip) is a veth whose other end is a port of a bridge in the namespace
// ckvcheck<pid>-br; a partition moves one side's ports to a second bridge there, and a heal
// moves them back. Its cl0 (10.216.<i>.2/30) is a veth to the check's own namespace
// (10.216.<i>.1), so the check's clients reach every node whichever side it is on; while
// it exists those links' routes shadow any real 10.216.0.0/16 network on the machine.
// Everything is deleted when the object goes (the nodes must be gone first). Needs root
// and iproute2's `ip`. One such network per machine at a time (the links' addresses are
// fixed): create() refuses while another check's network is in use, and first clears what
// a killed check left behind (its nodes, then its namespaces). Not thread-safe: one thread
// cuts and heals.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "kernel/core/result.h"

namespace ckv {

class CheckNetwork {
 public:
  static constexpr size_t kMaxHosts = 16;  // (the address plan)
  static Result<std::unique_ptr<CheckNetwork>> create(size_t hosts);
  ~CheckNetwork();

  // The command line prefix that runs a program in host i.
  std::vector<std::string> run_in(size_t i) const;
  std::string gossip_address(size_t i) const;  // on the LAN
  std::string client_address(size_t i) const;  // on the link to the check
  std::string check_address(size_t i) const;   // the check's end of that link

  // Cuts the LAN in two: the hosts with `side[i]` true from the others (until heal()).
  Status cut(const std::vector<bool>& side);
  Status heal();

  CheckNetwork(const CheckNetwork&) = delete;
  CheckNetwork& operator=(const CheckNetwork&) = delete;

 private:
  CheckNetwork() = default;
  std::string host(size_t i) const;  // host i's namespace
  std::string bridge() const;        // the bridges' namespace
  std::string port(size_t i) const;  // host i's port on a bridge
  std::string link(size_t i) const;  // the check's end of host i's link

  std::string prefix_;  // ckvcheck<pid>
  size_t hosts_ = 0;
  std::vector<std::string> created_;  // namespaces, to delete
  std::vector<bool> cut_;             // ports on the second bridge
};

}  // namespace ckv
