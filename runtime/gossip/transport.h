// Transport: the node's gossip sockets. Carries the kernel's outbox to other nodes (UDP
// datagrams, TCP streams with one reused connection per peer) and hands what arrives back
// to the kernel, tagged with the cluster and, with a keyring, sealed with AES-256-GCM. The
// design and its security properties (replay is not detected here) are described in
// docs/transport-and-security.md.
//
// Threading: every method and every callback runs on the strand passed to open(); the
// Transport must outlive the io_context's threads (stop them before destroying it).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/outbox.h"
#include "runtime/gossip/keyring.h"

namespace ckv {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

struct TransportLimits {
  size_t max_datagram_bytes = 64 * 1024;
  size_t max_stream_bytes = 32 * 1024 * 1024;
  size_t max_queue_bytes = 128 * 1024 * 1024;  // per outgoing connection
  size_t max_inbound_connections = 1024;
  Duration connect_timeout = std::chrono::seconds(3);
  Duration write_timeout = std::chrono::seconds(10);  // no progress for this long: drop
  Duration idle_timeout = std::chrono::seconds(60);   // outgoing, nothing to send
  Duration hello_timeout = std::chrono::seconds(5);
  Duration inbound_idle_timeout = std::chrono::minutes(5);
};

// Counters, readable from any thread.
struct TransportStats {
  std::atomic<uint64_t> datagrams_in{0}, datagrams_out{0};
  std::atomic<uint64_t> frames_in{0}, frames_out{0};
  std::atomic<uint64_t> bytes_in{0}, bytes_out{0};
  std::atomic<uint64_t> foreign_dropped{0};  // wrong cluster tag or not our protocol
  std::atomic<uint64_t> oversized_dropped{0};
  std::atomic<uint64_t> stream_messages_lost{0};  // queued on a connection that failed
  std::atomic<uint64_t> send_errors{0};
  std::atomic<uint64_t> connections_opened{0}, connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};  // over max_inbound_connections
  std::atomic<uint64_t> auth_rejected{0};        // sealed with no key of ours, or tampered with
  std::atomic<uint64_t> mode_rejected{0};        // plaintext to an encrypted node, or the reverse
  std::atomic<uint64_t> keyring_keys{0};         // 0: gossip is plaintext
};

// A hash of the cluster name, carried by all node-to-node traffic.
uint64_t cluster_tag(std::string_view cluster_name);

class Transport {
 public:
  using PacketHandler =
      std::function<void(const Address& from, Channel channel, std::vector<uint8_t> bytes)>;

  // Binds UDP and TCP on `bind`. An error says which socket and why ("address in use").
  // Without a keyring (null) traffic is plaintext.
  static Result<std::unique_ptr<Transport>> open(Strand strand, Address bind, Address advertise,
                                                 uint64_t tag, TransportLimits limits,
                                                 std::shared_ptr<const Keyring> keyring,
                                                 PacketHandler on_packet);
  ~Transport();

  void send(Send&& send);
  // Replaces the keyring (key rotation); what is queued keeps its seal. A transport
  // opened in plaintext stays plaintext: returns false and changes nothing.
  bool set_keyring(std::shared_ptr<const Keyring> keyring);
  // Closes every socket; pending handlers finish with errors and do nothing.
  void close();

  const TransportStats& stats() const { return stats_; }
  size_t outgoing_connections() const { return outgoing_.size(); }
  size_t inbound_connections() const { return inbound_count_; }

  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  struct Outgoing;
  struct Inbound;

 private:
  Transport(Strand strand, Address advertise, uint64_t tag, TransportLimits limits,
            std::shared_ptr<const Keyring> keyring, PacketHandler on_packet);
  // The tag this node's traffic carries, and the one a node of the same cluster with the
  // other encryption setting would send.
  uint64_t wire_tag() const;
  uint64_t other_mode_tag() const;
  void receive_datagram();
  void handle_datagram(size_t bytes);
  void refuse(const char* what, const std::string& from, bool wrong_mode);
  void accept();
  void send_datagram(const Address& to, std::vector<uint8_t>&& bytes);
  void send_stream(const Address& to, std::vector<uint8_t>&& bytes);
  void connect(const std::shared_ptr<Outgoing>& conn);
  void write_next(const std::shared_ptr<Outgoing>& conn);
  void watch_close(const std::shared_ptr<Outgoing>& conn);
  void drop(const std::shared_ptr<Outgoing>& conn, const char* why);
  // Sets the connection's one timer; only the latest arming's expiry runs `on_expiry`.
  void arm(const std::shared_ptr<Outgoing>& conn, Duration after,
           void (Transport::*on_expiry)(const std::shared_ptr<Outgoing>&));
  void connect_timed_out(const std::shared_ptr<Outgoing>& conn);
  void write_stalled(const std::shared_ptr<Outgoing>& conn);
  void close_idle(const std::shared_ptr<Outgoing>& conn);
  void close_inbound_after(const std::shared_ptr<Inbound>& conn, Duration limit);
  void read_hello(const std::shared_ptr<Inbound>& conn);
  void read_hello_rest(const std::shared_ptr<Inbound>& conn);
  void read_frame(const std::shared_ptr<Inbound>& conn);
  void read_body(const std::shared_ptr<Inbound>& conn, size_t length);
  void close_inbound(const std::shared_ptr<Inbound>& conn);

  Strand strand_;
  Address advertise_;
  uint64_t tag_;
  TransportLimits limits_;
  std::shared_ptr<const Keyring> keyring_;
  PacketHandler on_packet_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  std::vector<uint8_t> rx_;
  boost::asio::ip::udp::endpoint rx_from_;
  std::vector<uint8_t> opened_;  // scratch: a datagram's opened contents
  std::vector<uint8_t> plain_;   // scratch: a datagram before sealing
  std::map<Address, std::shared_ptr<Outgoing>> outgoing_;
  size_t inbound_count_ = 0;
  bool closed_ = false;
  TransportStats stats_;
};

}  // namespace ckv
