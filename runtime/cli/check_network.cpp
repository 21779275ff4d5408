#include "runtime/cli/check_network.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace ckv {

namespace {

// Runs `args` (a program on the PATH and its arguments) and waits; its standard error is
// the error's detail when it fails.
Status run(const std::vector<std::string>& args) {
  int err[2];
  if (::pipe(err) != 0)
    return Error{ErrorCode::kIoError, std::string("pipe: ") + std::strerror(errno)};
  const pid_t pid = ::fork();
  if (pid < 0) return Error{ErrorCode::kIoError, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    ::close(err[0]);
    ::dup2(err[1], 2);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    std::vector<char*> argv;
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(err[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;)
    said.append(buf, static_cast<size_t>(n));
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status{};
  std::string command;
  for (const std::string& a : args)
    command += (command.empty() ? "" : " ") + a;
  while (!said.empty() && said.back() == '\n')
    said.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && said.empty())
    said = "cannot run " + args[0] + " (iproute2's ip is needed)";
  return Error{ErrorCode::kIoError, command + ": " + said};
}

// Deletes the namespaces an earlier check left behind when it was killed: their client
// links' addresses would shadow this one's.
void delete_orphans() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ckvcheck", 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + 8, nullptr, 10);
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    (void)run({"ip", "netns", "del", name});
  }
}

}  // namespace

Result<std::unique_ptr<CheckNetwork>> CheckNetwork::create(size_t hosts) {
  if (::geteuid() != 0) {
    return Error{ErrorCode::kInvalidArgument,
                 "partitions need root: the test cluster runs in network namespaces"};
  }
  delete_orphans();
  std::unique_ptr<CheckNetwork> n(new CheckNetwork());
  n->prefix_ = "ckvcheck" + std::to_string(::getpid());
  n->hosts_ = hosts;
  n->cut_.assign(hosts, false);
  const std::string br = n->prefix_ + "-br";
  const std::vector<std::vector<std::string>> bridge = {
      {"ip", "netns", "add", br},
      {"ip", "-n", br, "link", "set", "lo", "up"},
      {"ip", "-n", br, "link", "add", "br0", "type", "bridge", "forward_delay", "0"},
      {"ip", "-n", br, "link", "set", "br0", "up"},
      {"ip", "-n", br, "link", "add", "br1", "type", "bridge", "forward_delay", "0"},
      {"ip", "-n", br, "link", "set", "br1", "up"},
  };
  for (size_t k = 0; k < bridge.size(); ++k) {
    if (Status s = run(bridge[k]); !s.ok()) return s.error();
    if (k == 0) n->created_.push_back(br);
  }
  for (size_t i = 0; i < hosts; ++i) {
    const std::string h = n->host(i);
    const std::string port = "p" + std::to_string(i);
    const std::string link = "ckc" + std::to_string(::getpid()) + "h" + std::to_string(i);
    const std::string lan = "10.215.0." + std::to_string(i + 1) + "/24";
    const std::string net = "10.216." + std::to_string(i) + ".";
    if (Status s = run({"ip", "netns", "add", h}); !s.ok()) return s.error();
    n->created_.push_back(h);
    const std::vector<std::vector<std::string>> steps = {
        {"ip", "-n", h, "link", "set", "lo", "up"},
        {"ip", "-n", h, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", br},
        {"ip", "-n", h, "addr", "add", lan, "dev", "eth0"},
        {"ip", "-n", h, "link", "set", "eth0", "up"},
        {"ip", "-n", br, "link", "set", port, "master", "br0"},
        {"ip", "-n", br, "link", "set", port, "up"},
        {"ip", "link", "add", link, "type", "veth", "peer", "name", "cl0", "netns", h},
        {"ip", "addr", "add", net + "1/30", "dev", link},
        {"ip", "link", "set", link, "up"},
        {"ip", "-n", h, "addr", "add", net + "2/30", "dev", "cl0"},
        {"ip", "-n", h, "link", "set", "cl0", "up"},
    };
    for (const auto& step : steps) {
      if (Status s = run(step); !s.ok()) return s.error();
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

std::vector<std::string> CheckNetwork::run_in(size_t i) const {
  return {"ip", "netns", "exec", host(i)};
}

std::string CheckNetwork::gossip_address(size_t i) const {
  return "10.215.0." + std::to_string(i + 1);
}

std::string CheckNetwork::client_address(size_t i) const {
  return "10.216." + std::to_string(i) + ".2";
}

Status CheckNetwork::cut(const std::vector<bool>& side) {
  for (size_t i = 0; i < hosts_ && i < side.size(); ++i) {
    if (side[i] == cut_[i]) continue;
    const std::string to = side[i] ? "br1" : "br0";
    if (Status s = run(
            {"ip", "-n", prefix_ + "-br", "link", "set", "p" + std::to_string(i), "master", to});
        !s.ok()) {
      return s;
    }
    cut_[i] = side[i];
  }
  return Status{};
}

Status CheckNetwork::heal() {
  return cut(std::vector<bool>(hosts_, false));
}

}  // namespace ckv
