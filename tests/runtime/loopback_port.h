// unused_loopback_port: a port on 127.0.0.1 for a test that opens real sockets (a
// transport, a node driver), free for both UDP and TCP when asked.
//
// Why not fixed ports: ctest runs each test case in its own process, two at once (-j 2),
// so two cases of one file with the same fixed port clash; and a client socket in
// TIME-WAIT (after a benchmark or another test) can hold any port of Linux's ephemeral
// range for a minute. This asks the kernel for a port (from that range, which the test
// scripts' fixed 1xxxx/2xxxx ports stay out of), checks that TCP can bind it too, and
// never returns the same port twice in one process.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <set>
#include <stdexcept>

namespace ckv {

inline uint16_t unused_loopback_port() {
  namespace asio = boost::asio;
  static std::set<uint16_t> given;
  const auto loopback = asio::ip::address_v4::loopback();
  asio::io_context io;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    asio::ip::udp::socket datagrams(io, asio::ip::udp::endpoint(loopback, 0));
    const uint16_t port = datagrams.local_endpoint().port();
    if (given.contains(port)) continue;
    boost::system::error_code ec;
    asio::ip::tcp::acceptor streams(io);
    streams.open(asio::ip::tcp::v4(), ec);
    if (!ec) streams.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) streams.bind(asio::ip::tcp::endpoint(loopback, port), ec);
    if (ec) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("no loopback port free for both UDP and TCP in 1000 tries");
}

}  // namespace ckv
