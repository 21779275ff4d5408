// cluster-kv: one node of the cluster. Parses the flags, opens the data directory, starts
// the kernel's driver, the HTTP server and mDNS discovery, and on SIGINT/SIGTERM leaves
// the cluster gracefully, flushes the store and exits 0. SIGHUP re-reads the keyring file. Bad
// flags, an unusable address or data directory: one line on stderr and exit code 2.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include "kernel/core/assert.h"
#include "runtime/cli/operator_cli.h"
#include "runtime/discovery/mdns.h"
#include "runtime/gossip/keyring.h"
#include "runtime/http/http_api.h"
#include "runtime/http/http_server.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/node_driver.h"
#include "runtime/options.h"
#include "runtime/security/access.h"
#include "runtime/security/tls.h"
#include "runtime/store/rocks_store.h"

namespace ckv {
namespace {

constexpr int kUsageExit = 2;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "cluster-kv: %s\n", message.c_str());
  return kUsageExit;
}

// The first up, non-loopback IPv4 address of this host, or 127.0.0.1.
uint32_t first_interface_ip() {
  ifaddrs* list = nullptr;
  uint32_t found = 0x7f000001;
  if (getifaddrs(&list) != 0) return found;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    found = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    break;
  }
  freeifaddrs(list);
  return found;
}

Result<Address> resolve(const HostPort& target) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(target.host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Error{ErrorCode::kInvalidArgument,
                 "cannot resolve '" + target.host + "': " + gai_strerror(rc)};
  }
  uint32_t ip = ntohl(reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr);
  freeaddrinfo(found);
  return Address{ip, target.port};
}

int backup(const BackupOptions& o) {
  Status s = RocksStore::backup(o.data_dir, o.to);
  if (!s.ok()) return usage_error("backup failed: " + s.error().detail);
  std::printf("backed up %s to %s\n", o.data_dir.c_str(), o.to.c_str());
  return 0;
}

// Connections and RocksDB files all take descriptors; the usual soft limit of 1024 is
// too few for a busy node, so take what the hard limit allows.
// Returns the limit now in force.
size_t raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(limit.rlim_cur);
}

// HTTP connections may use the descriptors gossip and RocksDB do not need: the cap is
// lowered (with a warning) to leave them a reserve, so the cap is reached before EMFILE.
size_t connection_cap(size_t wanted, size_t file_limit) {
  size_t reserve = file_limit > 2048 ? 1024 : file_limit / 2;
  size_t allowed = std::max<size_t>(file_limit - reserve, 1);
  if (wanted <= allowed) return wanted;
  log_warn("--http-max-connections " + std::to_string(wanted) + " lowered to " +
           std::to_string(allowed) + ": the process may open " + std::to_string(file_limit) +
           " files and gossip and RocksDB need some of them (raise `ulimit -n`)");
  return allowed;
}

// `group_may_read`: a file root owns and the service's group reads (mode 640) is fine.
void warn_if_others_can_read(const std::string& path, const std::string& what = "keyring file",
                             bool group_may_read = false) {
  const mode_t others = group_may_read ? S_IRWXO : (S_IRWXG | S_IRWXO);
  struct stat info {};
  if (stat(path.c_str(), &info) == 0 && (info.st_mode & others) != 0) {
    log_warn("the " + what + " " + path + " can be read by other users of this host; chmod 600 it");
  }
}

// The keyring the flags ask for; null when gossip is to be plaintext.
Result<std::shared_ptr<const Keyring>> load_keyring(const RunOptions& o) {
  if (!o.encrypt_key.empty()) {
    auto ring = Keyring::from_key(o.encrypt_key);
    if (!ring) return Error{ring.error().code, "--encrypt-key: " + ring.error().detail};
    log_warn(
        "--encrypt-key can be read by other users of this host (ps, /proc); "
        "--keyring-file with a chmod 600 file keeps the key private");
    return std::make_shared<const Keyring>(std::move(*ring));
  }
  if (!o.keyring_file.empty()) {
    auto ring = Keyring::load(o.keyring_file);
    if (!ring) return Error{ring.error().code, "--keyring-file: " + ring.error().detail};
    warn_if_others_can_read(o.keyring_file);
    return std::make_shared<const Keyring>(std::move(*ring));
  }
  return std::shared_ptr<const Keyring>();
}

// The driver's configuration from the flags: errors name the flag.
Result<DriverConfig> driver_config(const RunOptions& o, std::shared_ptr<const Keyring> keyring) {
  DriverConfig config;
  config.name = o.node_name;
  config.bind = o.gossip;
  config.advertise = o.advertise   ? *o.advertise
                     : o.gossip.ip ? o.gossip
                                   : Address{first_interface_ip(), o.gossip.port};
  config.cluster_tag = cluster_tag(o.cluster);
  config.node.membership.tags = o.tags;
  if (o.query_timeout) config.node.kv.query_timeout = *o.query_timeout;
  if (o.default_ttl) config.node.kv.default_ttl = *o.default_ttl;
  config.node.kv.max_data_bytes = uint64_t{o.max_data_mb} << 20;
  config.node.kv.tombstone_horizon = o.tombstone_ttl;
  if (o.tombstone_ttl > Duration(0)) {
    // A read must not outlast half the horizon (an answer it carries may be older than
    // what is collected meanwhile): a short horizon caps ?timeout= below it.
    config.node.kv.max_query_timeout = std::min<Duration>(
        config.node.kv.max_query_timeout, o.tombstone_ttl / 2 - std::chrono::milliseconds(1));
  }
  for (const HostPort& target : o.join) {
    auto address = resolve(target);
    if (!address) return Error{address.error().code, "--join: " + address.error().detail};
    config.seeds.push_back(*address);
  }
  if (Status s = Node::validate(config.node); !s.ok()) return s.error();
  config.keyring = std::move(keyring);
  if (!o.record_dir.empty()) {
    config.record = RecorderOptions{o.record_dir, uint64_t{o.record_mb} << 20, o.record_values};
  }
  return config;
}

// One io_context per thread, one thread per core: the kernel's strand lives on the first,
// HTTP connections are spread over all of them. (A thread of its own for the kernel was
// measured slower on 2 cores: a third thread competes for them.)
class IoThreads {
 public:
  IoThreads() {
    const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
      workers_.push_back(contexts_.back().get());
      keep_running_.push_back(boost::asio::make_work_guard(*contexts_.back()));
    }
  }
  boost::asio::io_context& first() { return *contexts_.front(); }
  const std::vector<boost::asio::io_context*>& all() const { return workers_; }
  void stop() {
    for (boost::asio::io_context* c : workers_)
      c->stop();
  }
  // Runs every context until stop(): the first on this thread.
  void run() {
    std::vector<std::thread> pool;
    for (size_t i = 1; i < workers_.size(); ++i)
      pool.emplace_back([c = workers_[i]] { c->run(); });
    first().run();
    for (std::thread& t : pool)
      t.join();
  }

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<boost::asio::io_context*> workers_;
  std::vector<WorkGuard> keep_running_;
};

void log_serving(const RunOptions& o, const DriverConfig& config) {
  std::string version = version_text();
  log_info(version.substr(0, version.size() - 1));
  log_info(std::string(o.http_tls_cert.empty() ? "serving HTTP on " : "serving HTTPS on ") +
           o.http.to_string() + ", gossip on " + o.gossip.to_string() + " (advertised as " +
           config.advertise.to_string() + "), cluster '" + o.cluster + "', data in " + o.data_dir +
           (o.sync ? " (fsync per write)" : ""));
  if (config.keyring) {
    log_info("gossip is encrypted and authenticated (AES-256-GCM): " + config.keyring->describe());
  } else {
    log_warn("gossip is NOT encrypted: anyone who can reach " + config.advertise.to_string() +
             " can read values in transit and forge messages (use --encrypt-key or "
             "--keyring-file)");
  }
}

// Null without --mdns or when the daemon cannot be reached (logged: the node runs on).
std::unique_ptr<MdnsDiscovery> start_mdns(const RunOptions& o, const DriverConfig& config,
                                          NodeDriver& driver) {
  if (!o.mdns) return nullptr;
  MdnsOptions m;
  m.cluster = o.cluster;
  m.node_name = o.node_name;
  m.gossip_port = config.advertise.port;
  m.http_port = o.http.port;
  for (const wire::Tag& t : o.tags)
    m.tags.emplace_back(t.key, t.value);
  m.on_peer = [d = &driver](const MdnsPeer& peer) { d->discovered(peer.node_name, peer.gossip); };
  m.log = [](const std::string& line) { log_info(line); };
  auto started = MdnsDiscovery::start(std::move(m));
  if (!started) {
    log_warn(started.error().detail);
    return nullptr;
  }
  return std::move(*started);
}

// The files SIGHUP re-reads; null: not in use.
struct Reloadable {
  AccessControl* access = nullptr;
  TlsContext* tls = nullptr;
};

// The process's signals: the first SIGINT/SIGTERM leaves gracefully (a second one ends
// the process at once); SIGHUP re-reads the keyring file, the token file and the TLS
// certificate, which is how keys, tokens and certificates change without a restart.
class Signals {
 public:
  Signals(boost::asio::io_context& io, const RunOptions& o, NodeDriver& driver, HttpServer& http,
          Reloadable reloadable, std::function<void()> stop_all)
      : o_(o),
        driver_(driver),
        http_(http),
        reloadable_(reloadable),
        stop_all_(std::move(stop_all)),
        stop_(io, SIGINT, SIGTERM),
        reload_(io, SIGHUP) {
    wait_stop();
    wait_reload();
  }

 private:
  void wait_stop() {
    stop_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (driver_.stopping()) {
        log_warn("second signal: exiting without finishing the leave");
        std::_Exit(1);
      }
      log_info(std::string("got ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
               "; leaving the cluster");
      http_.stop();
      driver_.shutdown(std::chrono::seconds(3), stop_all_);
      wait_stop();
    });
  }
  void wait_reload() {
    reload_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      wait_reload();
      reload_tokens_and_certificate();
      if (o_.keyring_file.empty()) {
        if (!reloadable_.access && !reloadable_.tls) {
          log_warn(
              "SIGHUP: no --keyring-file, --http-token-file or --http-tls-cert to re-read; "
              "nothing changed");
        }
        return;
      }
      auto ring = Keyring::load(o_.keyring_file);
      if (!ring) {
        log_error("SIGHUP: keeping the current keys: " + ring.error().detail);
        return;
      }
      warn_if_others_can_read(o_.keyring_file);
      std::string described = ring->describe();
      driver_.set_keyring(std::make_shared<const Keyring>(std::move(*ring)),
                          [described](bool changed) {
                            if (changed) log_info("keyring reloaded: " + described);
                          });
    });
  }

  void reload_tokens_and_certificate() {
    if (reloadable_.access) {
      auto described = reloadable_.access->reload();
      if (described) {
        log_info("SIGHUP: token file reloaded: " + *described);
      } else {
        log_error("SIGHUP: keeping the current tokens: " + described.error().detail);
      }
    }
    if (reloadable_.tls) {
      auto described = reloadable_.tls->reload();
      if (described) {
        log_info("SIGHUP: TLS certificate reloaded: " + *described);
      } else {
        log_error("SIGHUP: keeping the current TLS certificate: " + described.error().detail);
      }
    }
  }

  const RunOptions& o_;
  NodeDriver& driver_;
  HttpServer& http_;
  Reloadable reloadable_;
  std::function<void()> stop_all_;
  boost::asio::signal_set stop_;
  boost::asio::signal_set reload_;
};

int run(const RunOptions& o) {
  set_log_level(o.log_level);
  set_log_name(o.node_name);
  const size_t file_limit = raise_file_limit();
  auto keyring = load_keyring(o);
  if (!keyring) return usage_error(keyring.error().detail);
  if (!o.restore_from.empty()) {
    Status s = RocksStore::restore(o.restore_from, o.data_dir);
    if (!s.ok()) return usage_error("--restore-from: " + s.error().detail);
    log_info("restored " + o.data_dir + " from the backup in " + o.restore_from);
  }
  auto store = RocksStore::open(
      RocksStoreOptions{o.data_dir, o.sync, o.record_cache_mb << 20, o.min_free_disk_mb << 20});
  if (!store) return usage_error("--data-dir: " + store.error().detail);
  auto config = driver_config(o, *keyring);
  if (!config) return usage_error(config.error().detail);

  std::unique_ptr<AccessControl> access;
  if (!o.http_token_file.empty()) {
    auto table = TokenTable::load(o.http_token_file);
    if (!table) return usage_error("--http-token-file: " + table.error().detail);
    warn_if_others_can_read(o.http_token_file, "token file", /*group_may_read=*/true);
    log_info("HTTP requests need a token: " + table->describe() +
             (o.http_open_status ? "; health and metrics are open" : ""));
    access =
        std::make_unique<AccessControl>(std::move(*table), o.http_token_file, o.http_open_status);
  }
  std::shared_ptr<TlsContext> tls;
  if (!o.http_tls_cert.empty()) {
    auto loaded = TlsContext::load(o.http_tls_cert, o.http_tls_key);
    if (!loaded) return usage_error("--http-tls-cert: " + loaded.error().detail);
    tls = std::move(*loaded);
    warn_if_others_can_read(o.http_tls_key, "TLS private key", /*group_may_read=*/true);
    log_info("HTTP is served over TLS: " + tls->describe());
  }

  IoThreads threads;
  auto driver = NodeDriver::start(threads.first(), *config, **store);
  if (!driver) return usage_error(driver.error().detail);
  Metrics metrics;
  HttpApi api(**driver, metrics, **store, config->node.kv);
  api.require_tokens(access.get());
  HttpLimits http_limits;
  http_limits.max_connections = connection_cap(o.http_max_connections, file_limit);
  http_limits.read_timeout = o.http_read_timeout;
  auto http = HttpServer::open(threads.all(), o.http, api, http_limits, metrics.connections(), tls);
  if (!http) return usage_error("--http: " + http.error().detail);
  log_serving(o, *config);
  if (!access && (o.http.ip >> 24) != 127) {
    log_warn("HTTP is served on " + o.http.to_string() +
             " without --http-token-file: anyone who can reach it can read, write and delete "
             "every key");
  }
  std::unique_ptr<MdnsDiscovery> mdns = start_mdns(o, *config, **driver);
  Signals signals(threads.first(), o, **driver, **http, Reloadable{access.get(), tls.get()},
                  [&threads] { threads.stop(); });

  threads.run();
  mdns.reset();
  log_info("stopped");
  return 0;
}

}  // namespace
}  // namespace ckv

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // A key rotation's SIGHUP must not end a node that is still starting (opening a large
  // store, say); the handler that re-reads the keyring is installed once it runs.
  std::signal(SIGHUP, SIG_IGN);
  // A kernel assertion (on in Debug and sanitizer builds) is logged before the abort.
  ckv::set_assert_handler([](const ckv::AssertionFailure& f) {
    ckv::log_error(std::string("kernel invariant broken (") + f.why + "): CKV_ASSERT(" +
                   f.condition + ") at " + f.file + ":" + std::to_string(f.line));
  });
  if (argc >= 2 && ckv::is_operator_command(argv[1])) {
    return ckv::run_operator_command(argc, argv);
  }
  ckv::Command command = ckv::parse_command_line(argc, argv);
  if (auto* help = std::get_if<ckv::HelpText>(&command)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  if (auto* error = std::get_if<ckv::UsageError>(&command)) {
    return ckv::usage_error(error->message + " (see cluster-kv --help)");
  }
  if (auto* b = std::get_if<ckv::BackupOptions>(&command)) return ckv::backup(*b);
  return ckv::run(std::get<ckv::RunOptions>(command));
}
