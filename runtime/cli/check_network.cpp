#include "runtime/cli/check_network.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace ckv {

namespace {

constexpr const char* kPrefix = "ckvcheck";  // of every namespace a check makes
constexpr const char* kLinkPrefix = "ckc";   // of its links in the check's namespace

// Runs `args` (a program on the PATH and its arguments) and waits. Its standard output is
// the result; its standard error is the error's detail when it fails.
Result<std::string> run(const std::vector<std::string>& args) {
  // (Everything the child needs is made before fork: the check has other threads.)
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return Error{ErrorCode::kIoError, std::string("pipe: ") + std::strerror(errno)};
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Error{ErrorCode::kIoError, std::string("pipe: ") + std::strerror(errno)};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);  // (dup2 clears close-on-exec on the copies)
    ::dup2(err[1], 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string output, said;
  char buf[512];
  if (pid > 0) {
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)  // (small: never fills err)
      output.append(buf, static_cast<size_t>(n));
    for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;)
      said.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  ::close(err[0]);
  if (pid < 0) return Error{ErrorCode::kIoError, std::string("fork: ") + std::strerror(errno)};
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited < 0)
    return Error{ErrorCode::kIoError, std::string("waitpid: ") + std::strerror(errno)};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output;
  std::string command;
  for (const std::string& a : args)
    command += (command.empty() ? "" : " ") + a;
  while (!said.empty() && said.back() == '\n')
    said.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && said.empty())
    said = "cannot run " + args[0] + " (iproute2's ip is needed)";
  return Error{ErrorCode::kIoError, command + ": " + said};
}

// The pid in the name of a check's namespace (ckvcheck<pid>-...) or link (ckc<pid>h<i>);
// 0 when there is none.
pid_t owner_of(const std::string& name, const char* prefix, char after) {
  if (name.rfind(prefix, 0) != 0) return 0;
  const char* digits = name.c_str() + std::strlen(prefix);
  char* end = nullptr;
  const long pid = std::strtol(digits, &end, 10);
  return end != digits && *end == after && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

// Whether the check of that pid is gone (this process's pid is an earlier check's).
bool gone(pid_t owner) {
  return owner == ::getpid() || (::kill(owner, 0) != 0 && errno == ESRCH);
}

// Clears what checks that were killed left behind (their nodes go on running, and their
// client links' addresses would shadow this check's): the processes in their namespaces,
// then the namespaces. Refuses while another check's network is in use.
Status clear_orphans() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t owner = owner_of(name, kPrefix, '-');
    if (owner == 0) continue;
    if (!gone(owner)) {
      return Error{ErrorCode::kUnavailable,
                   "another partitioning check (pid " + std::to_string(owner) +
                       ") is running: its network namespaces are in use (one at a time)"};
    }
    if (auto pids = run({"ip", "netns", "pids", name})) {
      std::istringstream in(*pids);
      for (long p; in >> p;)
        ::kill(static_cast<pid_t>(p), SIGKILL);
    }
    (void)run({"ip", "netns", "del", name});
  }
  // A namespace outlives its name while anything still holds it, and its links with it:
  // deleting a link deletes both its ends.
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net", ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t owner = owner_of(name, kLinkPrefix, 'h');
    if (owner != 0 && gone(owner)) (void)run({"ip", "link", "del", name});
  }
  return Status{};
}

}  // namespace

Result<std::unique_ptr<CheckNetwork>> CheckNetwork::create(size_t hosts) {
  if (::geteuid() != 0) {
    return Error{ErrorCode::kInvalidArgument,
                 "partitions need root: the test cluster runs in network namespaces"};
  }
  if (hosts < 2 || hosts > kMaxHosts) {
    return Error{ErrorCode::kInvalidArgument,
                 "a partitioned test cluster has 2 to " + std::to_string(kMaxHosts) + " nodes"};
  }
  if (Status cleared = clear_orphans(); !cleared.ok()) return cleared.error();
  std::unique_ptr<CheckNetwork> n(new CheckNetwork());
  n->prefix_ = kPrefix + std::to_string(::getpid());
  n->hosts_ = hosts;
  n->cut_.assign(hosts, false);
  const std::string br = n->bridge();
  const std::vector<std::vector<std::string>> bridge = {
      {"ip", "netns", "add", br},
      {"ip", "-n", br, "link", "set", "lo", "up"},
      {"ip", "-n", br, "link", "add", "br0", "type", "bridge", "forward_delay", "0"},
      {"ip", "-n", br, "link", "set", "br0", "up"},
      {"ip", "-n", br, "link", "add", "br1", "type", "bridge", "forward_delay", "0"},
      {"ip", "-n", br, "link", "set", "br1", "up"},
  };
  for (size_t k = 0; k < bridge.size(); ++k) {
    if (auto s = run(bridge[k]); !s) return s.error();
    if (k == 0) n->created_.push_back(br);
  }
  for (size_t i = 0; i < hosts; ++i) {
    const std::string h = n->host(i);
    if (auto s = run({"ip", "netns", "add", h}); !s) return s.error();
    n->created_.push_back(h);
    const std::string port = n->port(i);
    const std::string link = n->link(i);
    const std::vector<std::vector<std::string>> steps = {
        {"ip", "-n", h, "link", "set", "lo", "up"},
        {"ip", "-n", h, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", br},
        {"ip", "-n", h, "addr", "add", n->gossip_address(i) + "/24", "dev", "eth0"},
        {"ip", "-n", h, "link", "set", "eth0", "up"},
        {"ip", "-n", br, "link", "set", port, "master", "br0"},
        {"ip", "-n", br, "link", "set", port, "up"},
        {"ip", "link", "add", link, "type", "veth", "peer", "name", "cl0", "netns", h},
        {"ip", "addr", "add", n->check_address(i) + "/30", "dev", link},
        {"ip", "link", "set", link, "up"},
        {"ip", "-n", h, "addr", "add", n->client_address(i) + "/30", "dev", "cl0"},
        {"ip", "-n", h, "link", "set", "cl0", "up"},
    };
    for (const auto& step : steps) {
      if (auto s = run(step); !s) return s.error();
    }
  }
  return n;
}

CheckNetwork::~CheckNetwork() {
  // Deleting a namespace deletes its veths, and with them their other ends.
  for (auto it = created_.rbegin(); it != created_.rend(); ++it)
    (void)run({"ip", "netns", "del", *it});
}

std::string CheckNetwork::host(size_t i) const {
  return prefix_ + "-h" + std::to_string(i);
}

std::string CheckNetwork::bridge() const {
  return prefix_ + "-br";
}

std::string CheckNetwork::port(size_t i) const {
  return "p" + std::to_string(i);
}

std::string CheckNetwork::link(size_t i) const {
  return kLinkPrefix + prefix_.substr(std::strlen(kPrefix)) + "h" + std::to_string(i);
}

std::vector<std::string> CheckNetwork::run_in(size_t i) const {
  return {"ip", "netns", "exec", host(i)};
}

std::string CheckNetwork::gossip_address(size_t i) const {
  return "10.215.0." + std::to_string(i + 1);
}

std::string CheckNetwork::client_address(size_t i) const {
  return "10.216." + std::to_string(i) + ".2";
}

std::string CheckNetwork::check_address(size_t i) const {
  return "10.216." + std::to_string(i) + ".1";
}

Status CheckNetwork::cut(const std::vector<bool>& side) {
  for (size_t i = 0; i < hosts_ && i < side.size(); ++i) {
    if (side[i] == cut_[i]) continue;
    auto moved =
        run({"ip", "-n", bridge(), "link", "set", port(i), "master", side[i] ? "br1" : "br0"});
    if (!moved) return moved.error();
    cut_[i] = side[i];
  }
  return Status{};
}

Status CheckNetwork::heal() {
  return cut(std::vector<bool>(hosts_, false));
}

}  // namespace ckv
