// The transport's sealing, end to end over loopback sockets: what a node with the key
// sends arrives intact, what travels cannot be read, and what is forged, tampered with,
// reordered or sealed with another key never reaches the kernel.
#include "runtime/gossip/transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/runtime/loopback_port.h"

namespace ckv {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using std::chrono::milliseconds;

const std::string kKeyA = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const std::string kKeyB = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
constexpr uint32_t kLoopback = 0x7f000001;

std::shared_ptr<const Keyring> ring(const std::string& text) {
  auto parsed = Keyring::parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error().detail;
  return std::make_shared<const Keyring>(std::move(*parsed));
}

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

bool contains(const std::vector<uint8_t>& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

struct Received {
  Address from;
  Channel channel;
  std::vector<uint8_t> bytes;
};

// One transport on 127.0.0.1:port and everything it handed to its kernel.
struct Peer {
  Peer(asio::io_context& io, uint16_t port, std::shared_ptr<const Keyring> keyring)
      : address{kLoopback, port} {
    auto opened =
        Transport::open(asio::make_strand(io), address, address, cluster_tag("transport-test"),
                        TransportLimits{}, std::move(keyring),
                        [this](const Address& from, Channel channel, std::vector<uint8_t> bytes) {
                          received.push_back({from, channel, std::move(bytes)});
                        });
    EXPECT_TRUE(opened.ok()) << opened.error().detail;
    transport = std::move(*opened);
  }
  void send(Address to, Channel channel, std::string_view text) {
    transport->send(Send{to, channel, bytes_of(text)});
  }
  Address address;
  std::unique_ptr<Transport> transport;
  std::vector<Received> received;
};

class TransportTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (Peer* p : {a_.get(), b_.get()})
      if (p != nullptr) p->transport->close();
    settle(milliseconds(50));  // aborted handlers run while the transports still exist
    a_.reset();
    b_.reset();
  }

  // Runs the io_context until `done` holds or `limit` passes; whether it held.
  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds(3000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(milliseconds(5));
      if (done()) return true;
    }
    return false;
  }
  void settle(milliseconds time) {
    run_until([] { return false; }, time);
  }

  // Everything `from` writes on one stream connection to a raw listener, until `bytes`
  // arrived.
  std::vector<uint8_t> capture_stream(Peer& from, const std::vector<std::string>& messages,
                                      size_t bytes) {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4(kLoopback), port_raw_));
    tcp::socket socket(io_);
    bool accepted = false;
    acceptor.async_accept(socket, [&](const boost::system::error_code& ec) { accepted = !ec; });
    for (const std::string& m : messages)
      from.send(Address{kLoopback, port_raw_}, Channel::kStream, m);
    EXPECT_TRUE(run_until([&] { return accepted; }));
    std::vector<uint8_t> captured(bytes);
    bool read = false;
    asio::async_read(socket, asio::buffer(captured),
                     [&](const boost::system::error_code& ec, size_t) { read = !ec; });
    EXPECT_TRUE(run_until([&] { return read; })) << "fewer than " << bytes << " bytes arrived";
    return captured;
  }

  // Writes `bytes` to `to` on a fresh connection, as an impostor would.
  void inject_stream(const Address& to, const std::vector<uint8_t>& bytes) {
    tcp::socket socket(io_);
    socket.connect(tcp::endpoint(asio::ip::address_v4(to.ip), to.port));
    asio::write(socket, asio::buffer(bytes));
    settle(milliseconds(200));
  }

  asio::io_context io_{1};
  const uint16_t port_a_ = unused_loopback_port(), port_b_ = unused_loopback_port(),
                 port_raw_ = unused_loopback_port();
  std::unique_ptr<Peer> a_, b_;
};

TEST_F(TransportTest, SealedDatagramsAndStreamsArriveIntactFromTheSender) {
  a_ = std::make_unique<Peer>(io_, port_a_, ring(kKeyA));
  b_ = std::make_unique<Peer>(io_, port_b_, ring(kKeyA));
  std::string big(300000, 'v');
  a_->send(b_->address, Channel::kDatagram, "over udp");
  a_->send(b_->address, Channel::kStream, "over tcp");
  a_->send(b_->address, Channel::kStream, big);
  ASSERT_TRUE(run_until([&] { return b_->received.size() == 3; }));
  std::sort(b_->received.begin(), b_->received.end(),
            [](const Received& x, const Received& y) { return x.channel < y.channel; });
  EXPECT_EQ(b_->received[0].bytes, bytes_of("over udp"));
  EXPECT_EQ(b_->received[1].bytes, bytes_of("over tcp"));
  EXPECT_EQ(b_->received[2].bytes, bytes_of(big));
  for (const Received& r : b_->received)
    EXPECT_EQ(r.from, a_->address);
  EXPECT_EQ(b_->transport->stats().auth_rejected, 0u);
  EXPECT_EQ(b_->transport->stats().keyring_keys, 1u);
}

TEST_F(TransportTest, AnotherKeysTrafficIsRejectedAndCounted) {
  a_ = std::make_unique<Peer>(io_, port_a_, ring(kKeyB));
  b_ = std::make_unique<Peer>(io_, port_b_, ring(kKeyA));
  a_->send(b_->address, Channel::kDatagram, "forged member update");
  a_->send(b_->address, Channel::kStream, "forged invalidation");
  ASSERT_TRUE(run_until([&] { return b_->transport->stats().auth_rejected == 2; }));
  settle(milliseconds(100));
  EXPECT_TRUE(b_->received.empty());
}

TEST_F(TransportTest, PlaintextAndEncryptedNodesRefuseEachOther) {
  a_ = std::make_unique<Peer>(io_, port_a_, nullptr);
  b_ = std::make_unique<Peer>(io_, port_b_, ring(kKeyA));
  a_->send(b_->address, Channel::kDatagram, "plain");
  a_->send(b_->address, Channel::kStream, "plain");
  b_->send(a_->address, Channel::kDatagram, "sealed");
  b_->send(a_->address, Channel::kStream, "sealed");
  ASSERT_TRUE(run_until([&] {
    return b_->transport->stats().mode_rejected == 2 && a_->transport->stats().mode_rejected == 2;
  }));
  EXPECT_TRUE(a_->received.empty());
  EXPECT_TRUE(b_->received.empty());
  EXPECT_EQ(a_->transport->stats().keyring_keys, 0u);
}

TEST_F(TransportTest, RotatingKeysKeepsTrafficFlowingAndRemovedKeysStop) {
  a_ = std::make_unique<Peer>(io_, port_a_, ring(kKeyA));
  b_ = std::make_unique<Peer>(io_, port_b_, ring(kKeyA + "\n" + kKeyB));
  // A switched to B as primary; B still knows A's old key.
  ASSERT_TRUE(a_->transport->set_keyring(ring(kKeyB + "\n" + kKeyA)));
  a_->send(b_->address, Channel::kDatagram, "new primary");
  b_->send(a_->address, Channel::kDatagram, "old primary");
  ASSERT_TRUE(run_until([&] { return a_->received.size() == 1 && b_->received.size() == 1; }));
  // A drops the old key; B, still sealing with it, is no longer heard.
  ASSERT_TRUE(a_->transport->set_keyring(ring(kKeyB)));
  b_->send(a_->address, Channel::kDatagram, "old primary again");
  ASSERT_TRUE(run_until([&] { return a_->transport->stats().auth_rejected == 1; }));
  EXPECT_EQ(a_->received.size(), 1u);
  EXPECT_EQ(a_->transport->stats().keyring_keys, 1u);
}

TEST_F(TransportTest, APlaintextNodeCannotBeGivenAKeyByReload) {
  a_ = std::make_unique<Peer>(io_, port_a_, nullptr);
  EXPECT_FALSE(a_->transport->set_keyring(ring(kKeyA)));
  EXPECT_EQ(a_->transport->stats().keyring_keys, 0u);
}

TEST_F(TransportTest, NothingOnTheWireCanBeRead) {
  const std::string secret = "the-secret-value-0123456789";
  for (bool sealed : {false, true}) {
    SCOPED_TRACE(sealed ? "sealed" : "plaintext (the control: the check can see a value)");
    a_ = std::make_unique<Peer>(io_, port_a_, sealed ? ring(kKeyA) : nullptr);
    udp::socket raw_udp(io_, udp::endpoint(asio::ip::address_v4(kLoopback), port_raw_));
    std::vector<uint8_t> datagram(2048);
    size_t got = 0;
    raw_udp.async_receive(asio::buffer(datagram),
                          [&](const boost::system::error_code& ec, size_t n) { got = ec ? 0 : n; });
    a_->send(Address{kLoopback, port_raw_}, Channel::kDatagram, secret);
    ASSERT_TRUE(run_until([&] { return got > 0; }));
    datagram.resize(got);
    EXPECT_EQ(contains(datagram, secret), !sealed);

    size_t hello_and_frame = sealed ? 54 + 4 + secret.size() + 28 : 18 + 4 + secret.size();
    std::vector<uint8_t> stream = capture_stream(*a_, {secret}, hello_and_frame);
    EXPECT_EQ(contains(stream, secret), !sealed);
    a_->transport->close();
    settle(milliseconds(20));
    a_.reset();
  }
}

// A sealed stream as A sent it to a raw listener: the hello, then one frame per message.
struct CapturedStream {
  std::vector<uint8_t> hello;
  std::vector<std::vector<uint8_t>> frames;  // each with its length prefix
  std::vector<uint8_t> joined(const std::vector<size_t>& order) const {
    std::vector<uint8_t> out = hello;
    for (size_t i : order)
      out.insert(out.end(), frames[i].begin(), frames[i].end());
    return out;
  }
};

TEST_F(TransportTest, TamperedReorderedOrSplicedFramesAreRejected) {
  a_ = std::make_unique<Peer>(io_, port_a_, ring(kKeyA));
  b_ = std::make_unique<Peer>(io_, port_b_, ring(kKeyA));
  constexpr size_t kHello = 12 + 42, kFrame = 4 + 5 + 28;
  std::vector<uint8_t> raw = capture_stream(*a_, {"first", "secnd"}, kHello + 2 * kFrame);
  CapturedStream captured;
  captured.hello.assign(raw.begin(), raw.begin() + kHello);
  for (size_t i = 0; i < 2; ++i) {
    auto from = raw.begin() + kHello + i * kFrame;
    captured.frames.emplace_back(from, from + kFrame);
  }

  // As captured: accepted (this is the replay the kernel must tolerate).
  inject_stream(b_->address, captured.joined({0, 1}));
  ASSERT_EQ(b_->received.size(), 2u);
  EXPECT_EQ(b_->received[1].bytes, bytes_of("secnd"));
  EXPECT_EQ(b_->received[1].from, a_->address);
  b_->received.clear();

  // One flipped bit in the second frame: the first arrives, the second closes the stream.
  std::vector<uint8_t> flipped = captured.joined({0, 1});
  flipped[kHello + kFrame + 10] ^= 0x04;
  inject_stream(b_->address, flipped);
  ASSERT_EQ(b_->received.size(), 1u);
  EXPECT_EQ(b_->received[0].bytes, bytes_of("first"));
  EXPECT_EQ(b_->transport->stats().auth_rejected, 1u);
  b_->received.clear();

  // Frames in another order, or a frame alone under the hello: its index does not match.
  inject_stream(b_->address, captured.joined({1, 0}));
  inject_stream(b_->address, captured.joined({1}));
  EXPECT_TRUE(b_->received.empty());
  EXPECT_EQ(b_->transport->stats().auth_rejected, 3u);

  // The frames under a hello of another connection (a fresh one from A): rejected.
  std::vector<uint8_t> other = capture_stream(*a_, {"third"}, kHello + kFrame);
  std::vector<uint8_t> spliced(other.begin(), other.begin() + kHello);
  spliced.insert(spliced.end(), captured.frames[0].begin(), captured.frames[0].end());
  inject_stream(b_->address, spliced);
  EXPECT_TRUE(b_->received.empty());
  EXPECT_EQ(b_->transport->stats().auth_rejected, 4u);
}

}  // namespace
}  // namespace ckv
