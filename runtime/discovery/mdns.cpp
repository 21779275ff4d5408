#include "runtime/discovery/mdns.h"

#include <arpa/inet.h>
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>

#include <charconv>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "runtime/log.h"

namespace ckv {

namespace {

constexpr const char* kServiceType = "_cluster-kv._udp";
// A TXT string is at most 255 bytes; "cluster=" takes 8 of them.
constexpr size_t kMaxClusterName = 255 - 8;
// How soon a lost daemon connection is replaced, and how often a failing reconnect is retried.
constexpr unsigned kReconnectNowMs = 0;
constexpr unsigned kRetryMs = 5000;
// Local collisions (another client of the same daemon has our name) are resolved on the spot,
// up to this many renames in a row.
constexpr int kMaxLocalRenames = 20;

std::string avahi_error(int code) {
  return avahi_strerror(code);
}

bool has_control_bytes(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A port number "1".."65535" spanning all of `text`.
std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// The value of the first TXT string "key=value" (or "key", giving ""); nullopt when absent.
std::optional<std::string> txt_value(AvahiStringList* txt, const char* key) {
  AvahiStringList* item = avahi_string_list_find(txt, key);
  if (item == nullptr) return std::nullopt;
  char* k = nullptr;
  char* v = nullptr;
  size_t size = 0;
  if (avahi_string_list_get_pair(item, &k, &v, &size) < 0) return std::nullopt;
  std::optional<std::string> out;
  try {
    out.emplace(v != nullptr ? std::string(v, size) : std::string());
  } catch (...) {
    avahi_free(k);
    avahi_free(v);
    throw;
  }
  avahi_free(k);
  avahi_free(v);
  return out;
}

}  // namespace

// All members are touched only by Avahi's thread while it runs (callbacks hold the event
// loop's lock), by start() before it is started, and by the destructor after it stopped.
struct MdnsDiscovery::Impl {
  explicit Impl(MdnsOptions o) : options(std::move(o)), service_name(options.node_name) {}
  ~Impl();

  MdnsOptions options;
  std::string service_name;  // our instance name: node_name, or an alternative after collisions
  AvahiThreadedPoll* poll = nullptr;
  AvahiClient* client = nullptr;
  AvahiEntryGroup* group = nullptr;        // owned by `client`
  AvahiServiceBrowser* browser = nullptr;  // owned by `client`
  AvahiTimeout* retry_timer = nullptr;
  bool thread_running = false;
  bool lost_daemon = false;       // the connection failed; log when it is back
  bool reconnect_failed = false;  // a reconnect attempt failed; do not log every retry

  void log(std::string line) noexcept;
  template <class F>
  void guarded(const char* where, F&& f) noexcept;

  static void client_callback(AvahiClient* c, AvahiClientState state, void* self);
  void on_client_state(AvahiClient* c, AvahiClientState state);
  void on_group_state(AvahiEntryGroup* g, AvahiEntryGroupState state);
  void on_browse(AvahiServiceBrowser* b, AvahiIfIndex interface, AvahiProtocol protocol,
                 AvahiBrowserEvent event, const char* name, const char* type, const char* domain,
                 AvahiLookupResultFlags flags);
  void on_resolved(const char* name, const AvahiAddress* address, uint16_t port,
                   AvahiStringList* txt);
  void on_retry();

  void publish(AvahiClient* c);
  void add_service_and_commit(AvahiEntryGroup* g);
  bool rename(const char* why);
  void browse(AvahiClient* c);
  void connect_again();
  void schedule_retry(unsigned ms);
};

void MdnsDiscovery::Impl::log(std::string line) noexcept {
  if (!options.log) return;
  try {
    options.log(line);
  } catch (...) {
    // A failing logger must not take Avahi's thread down.
  }
}

template <class F>
void MdnsDiscovery::Impl::guarded(const char* where, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    log(std::string("mDNS: error in ") + where + ": " + e.what());
  } catch (...) {
    log(std::string("mDNS: error in ") + where);
  }
}

MdnsDiscovery::Impl::~Impl() {
  // Order matters: join the thread first, so that nothing below races with a callback.
  if (thread_running) avahi_threaded_poll_stop(poll);
  if (retry_timer != nullptr) avahi_threaded_poll_get(poll)->timeout_free(retry_timer);
  // Frees the group, the browser and any resolver still running. The daemon withdraws our
  // service (sending goodbyes) when the client's connection closes.
  if (client != nullptr) avahi_client_free(client);
  if (poll != nullptr) avahi_threaded_poll_free(poll);
}

// --- the client: connection to the daemon ------------------------------------------------

void MdnsDiscovery::Impl::client_callback(AvahiClient* c, AvahiClientState state, void* self) {
  auto* impl = static_cast<Impl*>(self);
  impl->guarded("client callback", [&] { impl->on_client_state(c, state); });
}

void MdnsDiscovery::Impl::on_client_state(AvahiClient* c, AvahiClientState state) {
  // This may run inside avahi_client_new(), before it has returned `c` to us.
  client = c;
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      if (lost_daemon) log("mDNS: avahi-daemon is back; publishing and browsing again");
      lost_daemon = false;
      reconnect_failed = false;
      publish(c);
      browse(c);
      break;
    case AVAHI_CLIENT_S_COLLISION:
      // The daemon's host name collided; it withdraws its records and picks another name.
      // Our service points at that host name, so withdraw it until the daemon is running.
      log("mDNS: avahi-daemon's host name collided; re-publishing once it has a new one");
      if (group != nullptr) avahi_entry_group_reset(group);
      break;
    case AVAHI_CLIENT_S_REGISTERING:
      // The daemon is (re-)establishing its host name: re-publish when it is done.
      if (group != nullptr) avahi_entry_group_reset(group);
      break;
    case AVAHI_CLIENT_CONNECTING:
      log("mDNS: waiting for avahi-daemon to start");
      break;
    case AVAHI_CLIENT_FAILURE:
      // Typically the daemon (or D-Bus) stopped. The client is dead; replace it from the
      // event loop rather than freeing it inside its own callback.
      log("mDNS: lost avahi-daemon (" + avahi_error(avahi_client_errno(c)) + "); reconnecting");
      lost_daemon = true;
      schedule_retry(kReconnectNowMs);
      break;
  }
}

void MdnsDiscovery::Impl::connect_again() {
  int error = 0;
  // NO_FAIL: when D-Bus is up but the daemon is not, wait (CONNECTING) for it to appear.
  AvahiClient* c = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL,
                                    &Impl::client_callback, this, &error);
  if (c != nullptr) {
    client = c;
    return;
  }
  if (!reconnect_failed) {
    log("mDNS: cannot reconnect to avahi-daemon (" + avahi_error(error) + "); retrying every " +
        std::to_string(kRetryMs / 1000) + " s");
  }
  reconnect_failed = true;
  schedule_retry(kRetryMs);
}

void MdnsDiscovery::Impl::schedule_retry(unsigned ms) {
  struct timeval tv;
  avahi_elapse_time(&tv, ms, 0);
  const AvahiPoll* api = avahi_threaded_poll_get(poll);
  if (retry_timer != nullptr) {
    api->timeout_update(retry_timer, &tv);
    return;
  }
  retry_timer = api->timeout_new(
      api, &tv,
      [](AvahiTimeout*, void* self) {
        auto* impl = static_cast<Impl*>(self);
        impl->guarded("retry", [&] { impl->on_retry(); });
      },
      this);
  if (retry_timer == nullptr) log("mDNS: cannot create a timer; mDNS stays off");
}

void MdnsDiscovery::Impl::on_retry() {
  if (client != nullptr && avahi_client_get_state(client) == AVAHI_CLIENT_FAILURE) {
    avahi_client_free(client);  // also frees the group, browser and resolvers
    client = nullptr;
    group = nullptr;
    browser = nullptr;
  }
  if (client == nullptr) {
    connect_again();
    return;
  }
  // A browser that failed on its own (the client being fine) is retried here.
  if (avahi_client_get_state(client) == AVAHI_CLIENT_S_RUNNING) {
    publish(client);
    browse(client);
  }
}

// --- publishing --------------------------------------------------------------------------

void MdnsDiscovery::Impl::publish(AvahiClient* c) {
  if (group == nullptr) {
    group = avahi_entry_group_new(
        c,
        [](AvahiEntryGroup* g, AvahiEntryGroupState s, void* self) {
          auto* impl = static_cast<Impl*>(self);
          impl->guarded("entry group callback", [&] { impl->on_group_state(g, s); });
        },
        this);
    if (group == nullptr) {
      log("mDNS: cannot publish (" + avahi_error(avahi_client_errno(c)) + ")");
      return;
    }
  } else if (avahi_entry_group_is_empty(group) == 0) {
    return;  // already published
  }
  add_service_and_commit(group);
}

void MdnsDiscovery::Impl::add_service_and_commit(AvahiEntryGroup* g) {
  const std::string cluster = "cluster=" + options.cluster;
  const std::string node = "node=" + options.node_name;
  const std::string gossip = "gossip=" + std::to_string(options.gossip_port);
  const std::string http = "http=" + std::to_string(options.http_port);
  AvahiStringList* txt = avahi_string_list_new(cluster.c_str(), node.c_str(), gossip.c_str(),
                                               http.c_str(), static_cast<const char*>(nullptr));
  for (const auto& [key, value] : options.tags) {
    const std::string item = "tag." + key + "=" + value;
    if (txt != nullptr && item.size() <= 255) txt = avahi_string_list_add(txt, item.c_str());
  }
  if (txt == nullptr) {
    log("mDNS: cannot publish (out of memory)");
    return;
  }
  for (int renames = 0;; ++renames) {
    int r = avahi_entry_group_add_service_strlst(
        g, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, AvahiPublishFlags(0), service_name.c_str(),
        kServiceType, nullptr, nullptr, options.gossip_port, txt);
    if (r == AVAHI_ERR_COLLISION && renames < kMaxLocalRenames &&
        rename("another program on this host has it")) {
      avahi_entry_group_reset(g);
      continue;
    }
    if (r >= 0) r = avahi_entry_group_commit(g);
    if (r < 0) {
      log("mDNS: cannot publish " + quote(service_name) + " (" + avahi_error(r) + ")");
    }
    break;
  }
  avahi_string_list_free(txt);
}

bool MdnsDiscovery::Impl::rename(const char* why) {
  char* alternative = avahi_alternative_service_name(service_name.c_str());
  if (alternative == nullptr) return false;
  std::string old = std::move(service_name);
  service_name = alternative;
  avahi_free(alternative);
  log("mDNS: service name " + quote(old) + " is taken (" + why + "); using " + quote(service_name));
  return true;
}

void MdnsDiscovery::Impl::on_group_state(AvahiEntryGroup* g, AvahiEntryGroupState state) {
  group = g;  // may run inside avahi_entry_group_new()
  switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      log("mDNS: published " + quote(service_name) + " (" + kServiceType + ", cluster " +
          quote(options.cluster) + ", gossip port " + std::to_string(options.gossip_port) +
          ", http port " + std::to_string(options.http_port) + ")");
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      // Another host probed or announced the same instance name: the daemon withdrew ours.
      if (rename("another host has it")) {
        avahi_entry_group_reset(g);
        add_service_and_commit(g);
      } else {
        log("mDNS: service name collision and no alternative name; not published");
      }
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      log("mDNS: publishing failed (" +
          avahi_error(avahi_client_errno(avahi_entry_group_get_client(g))) + ")");
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
  }
}

// --- browsing and resolving --------------------------------------------------------------

void MdnsDiscovery::Impl::browse(AvahiClient* c) {
  if (browser != nullptr) return;
  browser = avahi_service_browser_new(
      c, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, kServiceType, nullptr, AvahiLookupFlags(0),
      [](AvahiServiceBrowser* b, AvahiIfIndex interface, AvahiProtocol protocol,
         AvahiBrowserEvent event, const char* name, const char* type, const char* domain,
         AvahiLookupResultFlags flags, void* self) {
        auto* impl = static_cast<Impl*>(self);
        impl->guarded("browser callback", [&] {
          impl->on_browse(b, interface, protocol, event, name, type, domain, flags);
        });
      },
      this);
  if (browser == nullptr) {
    log("mDNS: cannot browse (" + avahi_error(avahi_client_errno(c)) + ")");
  }
}

void MdnsDiscovery::Impl::on_browse(AvahiServiceBrowser* b, AvahiIfIndex interface,
                                    AvahiProtocol protocol, AvahiBrowserEvent event,
                                    const char* name, const char* type, const char* domain,
                                    AvahiLookupResultFlags flags) {
  AvahiClient* c = avahi_service_browser_get_client(b);
  switch (event) {
    case AVAHI_BROWSER_NEW: {
      if ((flags & AVAHI_LOOKUP_RESULT_OUR_OWN) != 0) return;  // our own service
      // Ask for IPv4 explicitly: an UNSPEC resolver may hand back an IPv6 address.
      AvahiServiceResolver* r = avahi_service_resolver_new(
          c, interface, protocol, name, type, domain, AVAHI_PROTO_INET, AvahiLookupFlags(0),
          [](AvahiServiceResolver* res, AvahiIfIndex, AvahiProtocol, AvahiResolverEvent ev,
             const char* n, const char*, const char*, const char*, const AvahiAddress* a,
             uint16_t port, AvahiStringList* txt, AvahiLookupResultFlags, void* self) {
            auto* impl = static_cast<Impl*>(self);
            impl->guarded("resolver callback", [&] {
              if (ev == AVAHI_RESOLVER_FOUND) {
                impl->on_resolved(n, a, port, txt);
              } else {
                impl->log("mDNS: cannot resolve " + quote(n != nullptr ? n : "") + " (" +
                          avahi_error(avahi_client_errno(avahi_service_resolver_get_client(res))) +
                          ")");
              }
            });
            avahi_service_resolver_free(res);  // one answer is all we want
          },
          this);
      if (r == nullptr) {
        log("mDNS: cannot resolve " + quote(name) + " (" + avahi_error(avahi_client_errno(c)) +
            ")");
      }
      break;
    }
    case AVAHI_BROWSER_FAILURE:
      log("mDNS: browsing failed (" + avahi_error(avahi_client_errno(c)) + "); retrying in " +
          std::to_string(kRetryMs / 1000) + " s");
      avahi_service_browser_free(b);
      browser = nullptr;
      schedule_retry(kRetryMs);
      break;
    case AVAHI_BROWSER_REMOVE:  // membership notices departures; mDNS only finds peers
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
      break;
  }
}

void MdnsDiscovery::Impl::on_resolved(const char* name, const AvahiAddress* address, uint16_t port,
                                      AvahiStringList* txt) {
  const std::string who = quote(name != nullptr ? name : "");
  std::optional<std::string> cluster = txt_value(txt, "cluster");
  if (!cluster) {
    log("mDNS: ignoring " + who + ": no cluster= in its TXT");
    return;
  }
  if (*cluster != options.cluster) {
    log("mDNS: ignoring " + who + ": cluster " + quote(*cluster) + " is not ours");
    return;
  }
  std::optional<std::string> node = txt_value(txt, "node");
  if (!node || node->empty()) {
    log("mDNS: ignoring " + who + ": no node= in its TXT");
    return;
  }
  if (has_control_bytes(*node)) {
    log("mDNS: ignoring " + who + ": node name " + quote(*node) + " has control characters");
    return;
  }
  if (*node == options.node_name) {
    // Our own services never get here (the browser flags them), so this is another process.
    log("mDNS: ignoring " + who + ": it also calls itself " + quote(*node));
    return;
  }
  uint16_t gossip_port = port;
  if (std::optional<std::string> text = txt_value(txt, "gossip")) {
    std::optional<uint16_t> p = parse_port(*text);
    if (!p) {
      log("mDNS: ignoring " + who + ": bad gossip port " + quote(*text));
      return;
    }
    gossip_port = *p;
  } else if (gossip_port == 0) {
    log("mDNS: ignoring " + who + ": no gossip port");
    return;
  }
  uint16_t http_port = 0;
  if (std::optional<std::string> text = txt_value(txt, "http")) {
    std::optional<uint16_t> p = parse_port(*text);
    if (!p) {
      log("mDNS: ignoring " + who + ": bad http port " + quote(*text));
      return;
    }
    http_port = *p;
  }
  if (address == nullptr || address->proto != AVAHI_PROTO_INET || address->data.ipv4.address == 0) {
    log("mDNS: ignoring " + who + ": no IPv4 address");
    return;
  }
  MdnsPeer peer{std::move(*node), std::move(*cluster),
                Address{ntohl(address->data.ipv4.address), gossip_port}, http_port};
  log("mDNS: found node " + quote(peer.node_name) + " at " + peer.gossip.to_string());
  if (!options.on_peer) return;
  try {
    options.on_peer(peer);
  } catch (...) {
    log("mDNS: on_peer threw; ignored");
  }
}

// --- the public face ---------------------------------------------------------------------

MdnsDiscovery::MdnsDiscovery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MdnsDiscovery::~MdnsDiscovery() = default;

Result<std::unique_ptr<MdnsDiscovery>> MdnsDiscovery::start(MdnsOptions options) {
  auto invalid = [](std::string detail) {
    return Error{ErrorCode::kInvalidArgument, "mDNS off: " + std::move(detail)};
  };
  auto io_error = [](std::string detail) {
    return Error{ErrorCode::kIoError, "mDNS off: " + std::move(detail) + "; use --join"};
  };
  try {
    if (options.cluster.empty()) return invalid("the cluster name is empty");
    if (options.cluster.size() > kMaxClusterName) {
      return invalid("the cluster name is longer than " + std::to_string(kMaxClusterName) +
                     " bytes");
    }
    if (!avahi_is_valid_service_name(options.node_name.c_str()) ||
        options.node_name.find('\0') != std::string::npos) {
      return invalid("node name " + quote(options.node_name) +
                     " cannot be an mDNS service name (1 to 63 bytes)");
    }
    if (options.gossip_port == 0) return invalid("the gossip port is 0");

    auto impl = std::make_unique<Impl>(std::move(options));
    impl->poll = avahi_threaded_poll_new();
    if (impl->poll == nullptr) return io_error("cannot create Avahi's event loop");

    // Created before the thread starts, so its first callbacks run here, unlocked.
    // No NO_FAIL flag: when the daemon is not there we want to hear it now.
    int error = 0;
    AvahiClient* c = avahi_client_new(avahi_threaded_poll_get(impl->poll), AvahiClientFlags(0),
                                      &Impl::client_callback, impl.get(), &error);
    if (c == nullptr) {
      if (error == AVAHI_ERR_NO_DAEMON) {
        return io_error("avahi-daemon is not running (" + avahi_error(error) + ")");
      }
      return io_error("cannot talk to avahi-daemon (" + avahi_error(error) + ")");
    }
    impl->client = c;
    if (avahi_threaded_poll_start(impl->poll) < 0) {
      return io_error("cannot start Avahi's event loop thread");
    }
    impl->thread_running = true;
    return std::unique_ptr<MdnsDiscovery>(new MdnsDiscovery(std::move(impl)));
  } catch (const std::exception& e) {
    return io_error(e.what());
  } catch (...) {
    return io_error("unexpected error");
  }
}

}  // namespace ckv
