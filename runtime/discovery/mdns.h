// MdnsDiscovery: finds the other nodes of a cluster on the local network through the
// system's avahi-daemon (mDNS/DNS-SD), and tells them about this node.
//
// It publishes one `_cluster-kv._udp` service, IPv4 only, named after the node, with the
// TXT records cluster=, node=, gossip= and http=; and it browses that service type for as
// long as the object lives, reporting every resolved service whose TXT names our cluster
// and a node other than ours. A peer may be reported more than once (once per interface,
// and again after it re-announces or the daemon restarts); callers treat reports as hints.
// Name collisions are resolved by renaming our service instance (the TXT node= stays);
// a daemon restart is survived by reconnecting when it comes back.
//
// Threading: after start() returns, all work happens on a thread owned by Avahi, and
// `on_peer` and `log` are called there (during start() they may also be called on the
// caller's thread; never two at a time). They hold Avahi's event-loop lock: they must
// return quickly, must not wait for the thread that destroys the MdnsDiscovery, and must
// not destroy it themselves. The destructor stops that thread before it returns: no
// callback runs after it. Nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kernel/core/address.h"
#include "kernel/core/result.h"

namespace ckv {

struct MdnsPeer {
  std::string node_name;
  std::string cluster;
  Address gossip;          // the resolved IPv4 address and the TXT gossip port (else SRV port)
  uint16_t http_port = 0;  // 0 when the peer published no http=
};

struct MdnsOptions {
  std::string cluster;       // only peers whose TXT says this cluster are reported
  std::string node_name;     // ourselves: never reported; the service instance name
  uint16_t gossip_port = 0;  // advertised: SRV port and TXT gossip=
  uint16_t http_port = 0;    // TXT http=
  // TXT "tag.KEY=VALUE", one string each (at most 255 bytes: longer tags are left out).
  std::vector<std::pair<std::string, std::string>> tags;
  // Called from Avahi's thread for each resolved peer of our cluster (may repeat).
  std::function<void(const MdnsPeer&)> on_peer;
  // One-line log messages (info level). May be empty.
  std::function<void(const std::string& line)> log;
};

class MdnsDiscovery {
 public:
  // Starts publishing and browsing. Bad options give kInvalidArgument. When the Avahi
  // daemon is not reachable, returns a kIoError whose detail is one clear line (e.g.
  // "mDNS off: avahi-daemon is not running (Daemon not running); use --join"): the caller
  // logs it and goes on without mDNS.
  static Result<std::unique_ptr<MdnsDiscovery>> start(MdnsOptions options);

  // Stops the thread, withdraws the service, frees everything. Must not be called from
  // `on_peer` or `log`.
  ~MdnsDiscovery();

  MdnsDiscovery(const MdnsDiscovery&) = delete;
  MdnsDiscovery& operator=(const MdnsDiscovery&) = delete;

 private:
  struct Impl;  // defined in mdns.cpp
  explicit MdnsDiscovery(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace ckv
