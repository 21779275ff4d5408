#include "runtime/gossip/transport.h"

#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>

#include "kernel/core/hash.h"
#include "runtime/log.h"

namespace ckv {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

constexpr size_t kTagBytes = 8;
constexpr size_t kSenderBytes = 4 + 2;  // the sender's advertised IPv4 address and port
// A datagram: tag, sender, one kernel packet.
constexpr size_t kDatagramHeaderBytes = kTagBytes + kSenderBytes;
constexpr uint8_t kHelloMagic[4] = {'C', 'K', 'V', '1'};
// A hello: magic and tag, then the sender's address (plaintext), or the sealed sender
// address and connection id.
constexpr size_t kHelloPrefixBytes = 4 + kTagBytes;
constexpr size_t kConnectionIdBytes = 8;
constexpr size_t kSealedHelloBytes = kSenderBytes + kConnectionIdBytes + kAeadOverhead;
constexpr size_t kFrameHeaderBytes = 4;
// Encrypted traffic's tag is the cluster tag with these bits flipped.
constexpr uint64_t kSealedTagMask = 0x9e3779b97f4a7c15;
// What a seal's associated data says the bytes are, so none can pass for another kind.
constexpr uint8_t kDatagramPurpose = 'D';
constexpr uint8_t kHelloPurpose = 'H';
constexpr uint8_t kFramePurpose = 'S';
// Frame bodies are read in pieces and the buffer grows with what arrived, so a header
// announcing 32 MiB costs nothing until the bytes come.
constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

RateLimitedLog g_transport_log(5, std::chrono::seconds(10));

void put_u64(uint8_t* out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get_u64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t{in[i]} << (8 * i);
  return v;
}
void put_u32(uint8_t* out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t{in[i]} << (8 * i);
  return v;
}
void put_sender(uint8_t* out, const Address& a) {
  put_u32(out, a.ip);
  out[4] = static_cast<uint8_t>(a.port);
  out[5] = static_cast<uint8_t>(a.port >> 8);
}
Address get_sender(const uint8_t* in) {
  return Address{get_u32(in), static_cast<uint16_t>(in[4] | (in[5] << 8))};
}

// Associated data of a sealed datagram: its tag and purpose.
std::array<uint8_t, kTagBytes + 1> datagram_aad(const uint8_t* tag) {
  std::array<uint8_t, kTagBytes + 1> aad;
  std::memcpy(aad.data(), tag, kTagBytes);
  aad[kTagBytes] = kDatagramPurpose;
  return aad;
}

// Associated data of a sealed hello: its magic, tag and purpose.
std::array<uint8_t, kHelloPrefixBytes + 1> hello_aad(const uint8_t* prefix) {
  std::array<uint8_t, kHelloPrefixBytes + 1> aad;
  std::memcpy(aad.data(), prefix, kHelloPrefixBytes);
  aad[kHelloPrefixBytes] = kHelloPurpose;
  return aad;
}

// Associated data of a sealed frame: tag, purpose, its connection and its index there.
std::array<uint8_t, kTagBytes + 1 + 8 + 8> frame_aad(uint64_t tag, uint64_t connection,
                                                     uint64_t index) {
  std::array<uint8_t, kTagBytes + 1 + 8 + 8> aad;
  put_u64(aad.data(), tag);
  aad[kTagBytes] = kFramePurpose;
  put_u64(aad.data() + kTagBytes + 1, connection);
  put_u64(aad.data() + kTagBytes + 9, index);
  return aad;
}

uint64_t random_u64() {
  uint8_t bytes[8];
  random_bytes(bytes, sizeof bytes);
  return get_u64(bytes);
}

asio::ip::address_v4 to_ip(const Address& a) {
  return asio::ip::address_v4(a.ip);
}

std::chrono::steady_clock::duration steady(Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

}  // namespace

uint64_t cluster_tag(std::string_view cluster_name) {
  return hash_word(fnv1a(cluster_name), 0x636b76);  // "ckv"
}

struct Transport::Outgoing {
  Outgoing(Strand strand, Address to)
      : socket(strand), timer(strand), peer(to), connection_id(random_u64()) {}
  tcp::socket socket;
  asio::steady_timer timer;
  Address peer;
  uint64_t connection_id;   // sealed into the hello; binds the frames to this connection
  uint64_t next_frame = 0;  // index of the next frame sealed for it
  std::deque<std::shared_ptr<std::vector<uint8_t>>> queue;  // frames, header included
  size_t queued_bytes = 0;
  bool connected = false;
  bool hello_sent = false;
  bool writing = false;
  bool dead = false;
  size_t written = 0;      // bytes of the front frame already sent
  uint64_t timer_gen = 0;  // a timer handler acts only if the timer was not re-armed since
  uint8_t probe = 0;       // the peer never writes here: a read completes only when it closes
};

struct Transport::Inbound {
  explicit Inbound(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  asio::steady_timer timer;
  Address peer;                // from the hello
  uint64_t connection_id = 0;  // from a sealed hello
  uint64_t next_frame = 0;
  uint8_t header[kHelloPrefixBytes + kSealedHelloBytes] = {};
  std::vector<uint8_t> body;
  bool closed = false;
};

Transport::Transport(Strand strand, Address advertise, uint64_t tag, TransportLimits limits,
                     std::shared_ptr<const Keyring> keyring, PacketHandler on_packet)
    : strand_(strand),
      advertise_(advertise),
      tag_(tag),
      limits_(limits),
      keyring_(std::move(keyring)),
      on_packet_(std::move(on_packet)),
      udp_(strand),
      acceptor_(strand),
      accept_retry_(strand),
      rx_(limits.max_datagram_bytes + kDatagramHeaderBytes + kAeadOverhead + 1) {
  stats_.keyring_keys = keyring_ ? keyring_->size() : 0;
}

Transport::~Transport() = default;

Result<std::unique_ptr<Transport>> Transport::open(Strand strand, Address bind, Address advertise,
                                                   uint64_t tag, TransportLimits limits,
                                                   std::shared_ptr<const Keyring> keyring,
                                                   PacketHandler on_packet) {
  std::unique_ptr<Transport> t(
      new Transport(strand, advertise, tag, limits, std::move(keyring), std::move(on_packet)));
  boost::system::error_code ec;
  udp::endpoint udp_at(to_ip(bind), bind.port);
  t->udp_.open(udp::v4(), ec);
  if (!ec) t->udp_.bind(udp_at, ec);
  if (ec) {
    return Error{ErrorCode::kIoError,
                 "cannot bind gossip UDP " + bind.to_string() + ": " + ec.message()};
  }
  // Bursts of gossip must not be dropped by a small kernel buffer.
  t->udp_.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024), ec);
  t->udp_.set_option(asio::socket_base::send_buffer_size(4 * 1024 * 1024), ec);
  ec.clear();
  tcp::endpoint tcp_at(to_ip(bind), bind.port);
  t->acceptor_.open(tcp::v4(), ec);
  if (!ec) t->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) t->acceptor_.bind(tcp_at, ec);
  if (!ec) t->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{ErrorCode::kIoError,
                 "cannot listen on gossip TCP " + bind.to_string() + ": " + ec.message()};
  }
  Transport* raw = t.get();
  asio::post(strand, [raw] {
    raw->receive_datagram();
    raw->accept();
  });
  return t;
}

void Transport::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  udp_.close(ec);
  acceptor_.close(ec);
  for (auto& [addr, conn] : outgoing_) {
    conn->dead = true;
    conn->socket.close(ec);
    conn->timer.cancel();
  }
  outgoing_.clear();
}

bool Transport::set_keyring(std::shared_ptr<const Keyring> keyring) {
  if (!keyring_ || !keyring) return false;
  keyring_ = std::move(keyring);
  stats_.keyring_keys = keyring_->size();
  return true;
}

uint64_t Transport::wire_tag() const {
  return keyring_ ? tag_ ^ kSealedTagMask : tag_;
}

uint64_t Transport::other_mode_tag() const {
  return keyring_ ? tag_ : tag_ ^ kSealedTagMask;
}

void Transport::refuse(const char* what, const std::string& from, bool wrong_mode) {
  if (wrong_mode) {
    stats_.mode_rejected++;
    g_transport_log(LogLevel::kWarn,
                    std::string("dropped ") + what + " from " + from + ": " +
                        (keyring_ ? "it is not encrypted, and this node only takes encrypted "
                                    "gossip (--encrypt-key / --keyring-file)"
                                  : "it is encrypted, and this node has no key"));
  } else {
    stats_.auth_rejected++;
    g_transport_log(LogLevel::kWarn, std::string("dropped ") + what + " from " + from +
                                         ": not sealed with any key of this node's keyring");
  }
}

void Transport::send(Send&& s) {
  if (closed_) return;
  if (s.channel == Channel::kDatagram) {
    send_datagram(s.to, std::move(s.bytes));
  } else {
    send_stream(s.to, std::move(s.bytes));
  }
}

// ---- datagrams -------------------------------------------------------------------------

void Transport::receive_datagram() {
  udp_.async_receive_from(
      asio::buffer(rx_), rx_from_,
      asio::bind_executor(strand_, [this](const boost::system::error_code& ec, size_t n) {
        if (closed_ || ec == asio::error::operation_aborted) return;
        if (!ec) handle_datagram(n);
        receive_datagram();
      }));
}

void Transport::handle_datagram(size_t n) {
  uint64_t tag = n >= kTagBytes ? get_u64(rx_.data()) : 0;
  if (n < kDatagramHeaderBytes || tag != wire_tag()) {
    if (n >= kTagBytes && tag == other_mode_tag()) {
      refuse("a datagram", rx_from_.address().to_string(), true);
      return;
    }
    stats_.foreign_dropped++;
    g_transport_log(LogLevel::kWarn, "dropped a datagram from " + rx_from_.address().to_string() +
                                         ": not this cluster's traffic");
    return;
  }
  const uint8_t* body = rx_.data() + kTagBytes;
  size_t body_bytes = n - kTagBytes;
  if (keyring_) {
    if (!keyring_->open(datagram_aad(rx_.data()), {body, body_bytes}, opened_) ||
        opened_.size() < kSenderBytes) {
      refuse("a datagram", rx_from_.address().to_string(), false);
      return;
    }
    body = opened_.data();
    body_bytes = opened_.size();
  }
  if (body_bytes - kSenderBytes > limits_.max_datagram_bytes) {
    stats_.oversized_dropped++;
    return;
  }
  stats_.datagrams_in++;
  stats_.bytes_in += n;
  // The sender is who the datagram says, as on a stream: its advertised address, which
  // is how members know it (behind NAT, or on a multi-homed host, datagrams leave from
  // other addresses). Sealed, the claim is as good as the key; in plaintext anyone can
  // claim any address.
  on_packet_(get_sender(body), Channel::kDatagram,
             std::vector<uint8_t>(body + kSenderBytes, body + body_bytes));
}

void Transport::send_datagram(const Address& to, std::vector<uint8_t>&& bytes) {
  if (bytes.size() > limits_.max_datagram_bytes) {
    stats_.oversized_dropped++;
    return;
  }
  auto packet = std::make_shared<std::vector<uint8_t>>();
  packet->reserve(kDatagramHeaderBytes + bytes.size() + kAeadOverhead);
  packet->resize(kTagBytes);
  put_u64(packet->data(), wire_tag());
  plain_.resize(kSenderBytes + bytes.size());
  put_sender(plain_.data(), advertise_);
  std::memcpy(plain_.data() + kSenderBytes, bytes.data(), bytes.size());
  if (keyring_) {
    keyring_->seal(datagram_aad(packet->data()), plain_, *packet);
  } else {
    packet->insert(packet->end(), plain_.begin(), plain_.end());
  }
  udp::endpoint dest(to_ip(to), to.port);
  stats_.datagrams_out++;
  stats_.bytes_out += packet->size();
  udp_.async_send_to(
      asio::buffer(*packet), dest,
      asio::bind_executor(strand_, [this, packet](const boost::system::error_code& ec, size_t) {
        if (ec && ec != asio::error::operation_aborted) stats_.send_errors++;
      }));
}

// ---- outgoing streams ------------------------------------------------------------------

void Transport::send_stream(const Address& to, std::vector<uint8_t>&& bytes) {
  if (bytes.size() > limits_.max_stream_bytes) {
    stats_.oversized_dropped++;
    return;
  }
  auto& slot = outgoing_[to];
  bool fresh = !slot;
  if (fresh) slot = std::make_shared<Outgoing>(strand_, to);
  std::shared_ptr<Outgoing> conn = slot;
  size_t frame_bytes = kFrameHeaderBytes + bytes.size() + (keyring_ ? kAeadOverhead : 0);
  if (conn->queued_bytes + frame_bytes > limits_.max_queue_bytes) {
    stats_.stream_messages_lost++;
    g_transport_log(LogLevel::kWarn, "stream to " + to.to_string() +
                                         " is backed up; dropped a message of " +
                                         std::to_string(bytes.size()) + " bytes");
    return;
  }
  auto frame = std::make_shared<std::vector<uint8_t>>();
  frame->reserve(frame_bytes);
  frame->resize(kFrameHeaderBytes);
  if (keyring_) {
    keyring_->seal(frame_aad(wire_tag(), conn->connection_id, conn->next_frame++), bytes, *frame);
  } else {
    frame->insert(frame->end(), bytes.begin(), bytes.end());
  }
  put_u32(frame->data(), static_cast<uint32_t>(frame->size() - kFrameHeaderBytes));
  conn->queue.push_back(std::move(frame));
  conn->queued_bytes += frame_bytes;
  if (fresh) {
    connect(conn);
  } else if (conn->connected && !conn->writing) {
    write_next(conn);
  }
}

void Transport::connect(const std::shared_ptr<Outgoing>& conn) {
  stats_.connections_opened++;
  // The hello goes first.
  uint8_t prefix[kHelloPrefixBytes];
  std::memcpy(prefix, kHelloMagic, 4);
  put_u64(prefix + 4, wire_tag());
  uint8_t who[kSenderBytes + kConnectionIdBytes];
  put_sender(who, advertise_);
  auto hello = std::make_shared<std::vector<uint8_t>>(prefix, prefix + kHelloPrefixBytes);
  if (keyring_) {
    put_u64(who + kSenderBytes, conn->connection_id);
    keyring_->seal(hello_aad(prefix), who, *hello);
  } else {
    hello->resize(kHelloPrefixBytes + kSenderBytes);
    std::memcpy(hello->data() + kHelloPrefixBytes, who, kSenderBytes);
  }
  conn->queued_bytes += hello->size();
  conn->queue.push_front(std::move(hello));

  arm(conn, limits_.connect_timeout, &Transport::connect_timed_out);
  tcp::endpoint dest(to_ip(conn->peer), conn->peer.port);
  conn->socket.async_connect(
      dest, asio::bind_executor(strand_, [this, conn](const boost::system::error_code& ec) {
        if (conn->dead) return;
        if (ec) {
          drop(conn,
               ec == asio::error::operation_aborted ? "connect timed out" : ec.message().c_str());
          return;
        }
        boost::system::error_code ignored;
        conn->socket.set_option(tcp::no_delay(true), ignored);
        conn->connected = true;
        watch_close(conn);
        write_next(conn);
      }));
}

// A peer that restarts or dies closes its end; noticing that at once keeps the next
// messages out of a connection whose writes would vanish.
void Transport::watch_close(const std::shared_ptr<Outgoing>& conn) {
  conn->socket.async_read_some(
      asio::buffer(&conn->probe, 1),
      asio::bind_executor(strand_, [this, conn](const boost::system::error_code& ec, size_t) {
        if (conn->dead) return;
        drop(conn, ec ? ec.message().c_str() : "peer wrote on a send-only connection");
      }));
}

void Transport::connect_timed_out(const std::shared_ptr<Outgoing>& conn) {
  if (conn->connected) return;
  boost::system::error_code ignored;
  conn->socket.close(ignored);  // the connect handler then reports the failure
}

void Transport::arm(const std::shared_ptr<Outgoing>& conn, Duration after,
                    void (Transport::*on_expiry)(const std::shared_ptr<Outgoing>&)) {
  uint64_t gen = ++conn->timer_gen;
  conn->timer.expires_after(steady(after));
  conn->timer.async_wait(asio::bind_executor(
      strand_, [this, conn, gen, on_expiry](const boost::system::error_code& ec) {
        if (ec || conn->dead || gen != conn->timer_gen) return;  // cancelled or re-armed
        (this->*on_expiry)(conn);
      }));
}

void Transport::write_stalled(const std::shared_ptr<Outgoing>& conn) {
  drop(conn, "write stalled");
}

void Transport::close_idle(const std::shared_ptr<Outgoing>& conn) {
  if (conn->writing || !conn->queue.empty()) return;
  conn->dead = true;
  boost::system::error_code ignored;
  conn->socket.close(ignored);
  auto it = outgoing_.find(conn->peer);
  if (it != outgoing_.end() && it->second == conn) outgoing_.erase(it);
}

// Writes the front frame piece by piece; the stall timer restarts on every piece, so a
// slow but moving link is not mistaken for a dead one.
void Transport::write_next(const std::shared_ptr<Outgoing>& conn) {
  if (conn->queue.empty()) {
    conn->writing = false;
    arm(conn, limits_.idle_timeout, &Transport::close_idle);
    return;
  }
  conn->writing = true;
  std::shared_ptr<std::vector<uint8_t>> frame = conn->queue.front();
  arm(conn, limits_.write_timeout, &Transport::write_stalled);
  conn->socket.async_write_some(
      asio::buffer(frame->data() + conn->written, frame->size() - conn->written),
      asio::bind_executor(strand_,
                          [this, conn, frame](const boost::system::error_code& ec, size_t n) {
                            if (conn->dead) return;
                            if (ec) {
                              drop(conn, ec.message().c_str());
                              return;
                            }
                            stats_.bytes_out += n;
                            conn->written += n;
                            if (conn->written < frame->size()) {
                              write_next(conn);
                              return;
                            }
                            conn->written = 0;
                            if (conn->hello_sent) {
                              stats_.frames_out++;
                            } else {
                              conn->hello_sent = true;
                            }
                            conn->queued_bytes -= frame->size();
                            conn->queue.pop_front();
                            write_next(conn);
                          }));
}

void Transport::drop(const std::shared_ptr<Outgoing>& conn, const char* why) {
  if (conn->dead) return;
  conn->dead = true;
  size_t lost = conn->queue.size();
  if (!conn->connected && lost > 0) lost--;  // the hello
  stats_.stream_messages_lost += lost;
  if (lost > 0) {
    g_transport_log(LogLevel::kInfo, "stream to " + conn->peer.to_string() + " closed: " + why +
                                         " (" + std::to_string(lost) + " messages lost)");
  } else if (log_enabled(LogLevel::kDebug)) {
    log_debug("stream to " + conn->peer.to_string() + " closed: " + why);
  }
  boost::system::error_code ignored;
  conn->socket.close(ignored);
  conn->timer.cancel();
  auto it = outgoing_.find(conn->peer);
  if (it != outgoing_.end() && it->second == conn) outgoing_.erase(it);
}

// ---- incoming streams ------------------------------------------------------------------

void Transport::accept() {
  acceptor_.async_accept(
      asio::bind_executor(strand_, [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (closed_ || ec == asio::error::operation_aborted) return;
        if (ec) {
          // Out of file descriptors, typically: the pending connection stays queued, so
          // retrying at once would spin. Wait a little.
          g_transport_log(LogLevel::kWarn, "accepting a gossip connection failed: " + ec.message());
          accept_retry_.expires_after(kAcceptRetry);
          accept_retry_.async_wait(
              asio::bind_executor(strand_, [this](const boost::system::error_code& wait_ec) {
                if (!wait_ec && !closed_) accept();
              }));
          return;
        }
        if (inbound_count_ >= limits_.max_inbound_connections) {
          stats_.connections_refused++;
          g_transport_log(LogLevel::kWarn, "refused a gossip connection: too many open");
        } else {
          stats_.connections_accepted++;
          inbound_count_++;
          auto conn = std::make_shared<Inbound>(std::move(socket));
          read_hello(conn);
        }
        accept();
      }));
}

void Transport::close_inbound_after(const std::shared_ptr<Inbound>& conn, Duration limit) {
  conn->timer.expires_after(steady(limit));  // cancels the previous deadline
  conn->timer.async_wait(
      asio::bind_executor(strand_, [this, conn](const boost::system::error_code& ec) {
        if (!ec) close_inbound(conn);
      }));
}

void Transport::read_hello(const std::shared_ptr<Inbound>& conn) {
  close_inbound_after(conn, limits_.hello_timeout);
  asio::async_read(
      conn->socket, asio::buffer(conn->header, kHelloPrefixBytes),
      asio::bind_executor(strand_, [this, conn](const boost::system::error_code& ec, size_t) {
        if (ec || closed_) {
          close_inbound(conn);
          return;
        }
        bool magic = std::memcmp(conn->header, kHelloMagic, 4) == 0;
        uint64_t tag = get_u64(conn->header + 4);
        if (!magic || tag != wire_tag()) {
          boost::system::error_code ignored;
          std::string from = conn->socket.remote_endpoint(ignored).address().to_string();
          if (magic && tag == other_mode_tag()) {
            refuse("a gossip connection", from, true);
          } else {
            stats_.foreign_dropped++;
            g_transport_log(LogLevel::kWarn, "refused a gossip connection from " + from +
                                                 ": not this cluster's traffic");
          }
          close_inbound(conn);
          return;
        }
        read_hello_rest(conn);
      }));
}

void Transport::read_hello_rest(const std::shared_ptr<Inbound>& conn) {
  size_t rest = keyring_ ? kSealedHelloBytes : kSenderBytes;
  asio::async_read(
      conn->socket, asio::buffer(conn->header + kHelloPrefixBytes, rest),
      asio::bind_executor(strand_, [this, conn, rest](const boost::system::error_code& ec, size_t) {
        if (ec || closed_) {
          close_inbound(conn);
          return;
        }
        const uint8_t* who = conn->header + kHelloPrefixBytes;
        if (keyring_) {
          std::vector<uint8_t> opened;
          if (!keyring_->open(hello_aad(conn->header), {who, rest}, opened) ||
              opened.size() != kSenderBytes + kConnectionIdBytes) {
            boost::system::error_code ignored;
            refuse("a gossip connection",
                   conn->socket.remote_endpoint(ignored).address().to_string(), false);
            close_inbound(conn);
            return;
          }
          conn->peer = get_sender(opened.data());
          conn->connection_id = get_u64(opened.data() + kSenderBytes);
        } else {
          conn->peer = get_sender(who);
        }
        read_frame(conn);
      }));
}

void Transport::read_frame(const std::shared_ptr<Inbound>& conn) {
  close_inbound_after(conn, limits_.inbound_idle_timeout);
  asio::async_read(
      conn->socket, asio::buffer(conn->header, kFrameHeaderBytes),
      asio::bind_executor(strand_, [this, conn](const boost::system::error_code& ec, size_t) {
        if (ec || closed_) {
          close_inbound(conn);
          return;
        }
        uint32_t length = get_u32(conn->header);
        if (length > limits_.max_stream_bytes + (keyring_ ? kAeadOverhead : 0)) {
          stats_.oversized_dropped++;
          g_transport_log(LogLevel::kWarn, "closed the stream from " + conn->peer.to_string() +
                                               ": a frame of " + std::to_string(length) +
                                               " bytes is over the limit");
          close_inbound(conn);
          return;
        }
        conn->body.clear();
        read_body(conn, length);
      }));
}

void Transport::read_body(const std::shared_ptr<Inbound>& conn, size_t length) {
  if (conn->body.size() == length) {
    std::vector<uint8_t> message;
    if (keyring_) {
      if (!keyring_->open(frame_aad(wire_tag(), conn->connection_id, conn->next_frame++),
                          conn->body, message)) {
        refuse("a stream frame", conn->peer.to_string(), false);
        close_inbound(conn);
        return;
      }
    } else {
      message.swap(conn->body);
    }
    stats_.frames_in++;
    stats_.bytes_in += length + kFrameHeaderBytes;
    on_packet_(conn->peer, Channel::kStream, std::move(message));
    read_frame(conn);
    return;
  }
  size_t have = conn->body.size();
  conn->body.resize(have + std::min(kReadChunkBytes, length - have));
  asio::async_read(conn->socket, asio::buffer(conn->body.data() + have, conn->body.size() - have),
                   asio::bind_executor(
                       strand_, [this, conn, length](const boost::system::error_code& ec, size_t) {
                         if (ec || closed_) {
                           close_inbound(conn);
                           return;
                         }
                         read_body(conn, length);
                       }));
}

void Transport::close_inbound(const std::shared_ptr<Inbound>& conn) {
  if (conn->closed) return;
  conn->closed = true;
  inbound_count_--;
  boost::system::error_code ignored;
  conn->socket.close(ignored);
  conn->timer.cancel();
}

}  // namespace ckv
