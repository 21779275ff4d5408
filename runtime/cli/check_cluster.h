// CheckCluster: the test cluster `cluster-kv check --start N` runs on loopback, to harm on
// purpose while the check's workload runs: nodes of this same binary, each with its own
// data directory under one temporary directory, node 0 founding and the others joining it.
// A node killed (SIGKILL) restarts on its data and rejoins through its saved member
// snapshot; a paused one (SIGSTOP) is continued (SIGCONT). With `partitions`, each node
// runs in a network namespace of its own on a LAN the check can cut in two
// (check_network.h). Everything is stopped and the directory removed when the object goes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernel/core/result.h"
#include "runtime/cli/check_network.h"

namespace ckv {

class CheckCluster {
 public:
  // Starts `nodes` nodes: HTTP on 127.0.0.1:`base_port`+i, gossip on `base_port`+100+i
  // (with `partitions`: HTTP on port `base_port`+i of the node's link to the check, gossip
  // on port 7946 of its LAN address); returns once every node sees every node alive (or
  // an error naming the node's log).
  static Result<std::unique_ptr<CheckCluster>> start(size_t nodes, uint16_t base_port,
                                                     bool partitions);
  ~CheckCluster();

  const std::vector<std::string>& urls() const { return urls_; }
  const std::string& dir() const { return dir_; }
  void kill(size_t i);
  Status restart(size_t i);
  void pause(size_t i);
  void resume(size_t i);
  // Partitions (only when started with them): the nodes with `side[i]` true are cut off
  // from the others until heal().
  Status partition(const std::vector<bool>& side);
  Status heal();
  // Whether node `i` sees `count` members alive.
  bool sees_alive(size_t i, size_t count) const;

  CheckCluster(const CheckCluster&) = delete;
  CheckCluster& operator=(const CheckCluster&) = delete;

 private:
  CheckCluster() = default;
  Status spawn(size_t i);

  std::unique_ptr<CheckNetwork> network_;  // (destroyed after the nodes are stopped)
  std::string dir_;
  std::string binary_;
  uint16_t base_port_ = 0;
  size_t nodes_ = 0;
  std::vector<pid_t> pids_;
  std::vector<std::string> urls_;
};

}  // namespace ckv
