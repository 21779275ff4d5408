#include "runtime/cli/check_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "runtime/cli/http_client.h"

namespace ckv {

namespace fs = std::filesystem;

Result<std::unique_ptr<CheckCluster>> CheckCluster::start(size_t nodes, uint16_t base_port,
                                                          bool partitions) {
  std::unique_ptr<CheckCluster> c(new CheckCluster());
  if (partitions) {
    auto network = CheckNetwork::create(nodes);
    if (!network) return network.error();
    c->network_ = std::move(*network);
  }
  char tmpl[] = "/tmp/cluster-kv-check.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return Error{ErrorCode::kIoError,
                 std::string("a directory for the test cluster: ") + std::strerror(errno)};
  }
  c->dir_ = tmpl;
  std::error_code ec;
  c->binary_ = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Error{ErrorCode::kIoError, "cannot find this program's path: " + ec.message()};
  c->base_port_ = base_port;
  c->nodes_ = nodes;
  c->pids_.assign(nodes, -1);
  for (size_t i = 0; i < nodes; ++i) {
    const std::string host = c->network_ ? c->network_->client_address(i) : "127.0.0.1";
    c->urls_.push_back("http://" + host + ":" + std::to_string(base_port + i));
    if (Status s = c->spawn(i); !s.ok()) return s.error();
    if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (size_t i = 0; i < nodes; ++i) {
    while (!c->sees_alive(i, nodes)) {
      if (std::chrono::steady_clock::now() > give_up) {
        return Error{ErrorCode::kUnavailable,
                     "node " + std::to_string(i) +
                         " of the test "
                         "cluster did not see every node alive within 30 s "
                         "(its log: " +
                         c->dir_ + "/n" + std::to_string(i) + ".log)"};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return c;
}

CheckCluster::~CheckCluster() {
  for (pid_t pid : pids_) {
    if (pid <= 0) continue;
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

Status CheckCluster::spawn(size_t i) {
  const std::string name = "n" + std::to_string(i);
  std::string http = "127.0.0.1:" + std::to_string(base_port_ + i);
  std::string gossip = "127.0.0.1:" + std::to_string(base_port_ + 100 + i);
  std::string join = "127.0.0.1:" + std::to_string(base_port_ + 100);
  std::vector<std::string> args;
  if (network_) {
    http = network_->client_address(i) + ":" + std::to_string(base_port_ + i);
    gossip = network_->gossip_address(i) + ":7946";
    join = network_->gossip_address(0) + ":7946";
    args = network_->run_in(i);
  }
  const std::string data = dir_ + "/" + name;
  const std::string log = dir_ + "/" + name + ".log";
  for (const std::string& a : {binary_, std::string("--node-name"), name, std::string("--http"),
                               http, std::string("--gossip"), gossip, std::string("--no-mdns"),
                               std::string("--data-dir"), data}) {
    args.push_back(a);
  }
  if (i != 0) {
    args.push_back("--join");
    args.push_back(join);
  }
  // (Everything the child needs is made before fork: the check has other threads.)
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error{ErrorCode::kIoError, log + ": " + std::strerror(errno)};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);  // (dup2 clears close-on-exec on the copies)
    ::dup2(fd, 2);
    ::execvp(argv[0], argv.data());  // (`ip netns exec` execs the node in place)
    ::_exit(127);
  }
  ::close(fd);
  if (pid < 0) return Error{ErrorCode::kIoError, std::string("fork: ") + std::strerror(errno)};
  pids_[i] = pid;
  return Status{};
}

void CheckCluster::kill(size_t i) {
  if (pids_[i] <= 0) return;
  ::kill(pids_[i], SIGKILL);
  ::waitpid(pids_[i], nullptr, 0);
  pids_[i] = -1;
}

Status CheckCluster::restart(size_t i) {
  if (pids_[i] > 0) return Status{};
  return spawn(i);
}

void CheckCluster::pause(size_t i) {
  if (pids_[i] > 0) ::kill(pids_[i], SIGSTOP);
}

void CheckCluster::resume(size_t i) {
  if (pids_[i] > 0) ::kill(pids_[i], SIGCONT);
}

Status CheckCluster::partition(const std::vector<bool>& side) {
  if (!network_)
    return Error{ErrorCode::kInvalidArgument, "the test cluster was not started for partitions"};
  return network_->cut(side);
}

Status CheckCluster::heal() {
  return network_ ? network_->heal() : Status{};
}

bool CheckCluster::sees_alive(size_t i, size_t count) const {
  auto url = parse_node_url(urls_[i]);
  if (!url) return false;
  ClientOptions o;
  o.node = *url;
  o.timeout = std::chrono::seconds(2);
  auto r = http_call(o, "GET", "/_cluster/members");
  if (!r || r->status != 200) return false;
  size_t alive = 0;
  for (size_t at = r->body.find("\"state\":\"alive\""); at != std::string::npos;
       at = r->body.find("\"state\":\"alive\"", at + 1)) {
    ++alive;
  }
  return alive == count;
}

}  // namespace ckv
