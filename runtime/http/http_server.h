// HttpServer: the HTTP/1.1 front door (Boost.Beast; with http_codec.h, which it shares with
// the HTTP fuzz target, the only runtime code that includes Beast).
//
// Accepts connections and hands them round-robin to the worker io_contexts, each run by
// one thread (so a connection needs no strand, and parsing runs in parallel with the
// kernel); keep-alive and pipelining (requests on one
// connection are answered in order). Each parsed request goes to HttpApi. Requests the
// parser rejects get a 4xx and the connection closes cleanly: malformed 400, header over
// `max_header_bytes` 431, body over the value limit 413. `Expect: 100-continue` is
// honoured, so curl sends large bodies without its one-second wait. Given a TlsContext it
// serves HTTPS instead (TLS 1.2+, the handshake within the read timeout); a connection over
// the limit is then closed without an answer.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "runtime/http/http_api.h"

namespace ckv {

class TlsContext;

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;
  // A request whose header and body take longer to arrive gets 408 and the connection
  // closes; a keep-alive connection idle this long, or a response the client does not
  // read within it, closes without one.
  Duration read_timeout = std::chrono::seconds(30);
  // Connections beyond this many are answered 503 and closed at once.
  size_t max_connections = 10000;
};

class HttpServer {
 public:
  // Listens on `at`, accepting on workers[0]. Each worker must be run by exactly one
  // thread.
  static Result<std::unique_ptr<HttpServer>> open(
      std::vector<boost::asio::io_context*> workers, Address at, HttpApi& api,
      HttpLimits limits = {},
      std::shared_ptr<HttpConnectionStats> stats = std::make_shared<HttpConnectionStats>(),
      std::shared_ptr<const TlsContext> tls = nullptr);
  // Stops accepting connections (thread-safe; takes effect on the acceptor's strand).
  void stop();

  // A connection's socket, bound to its worker's executor rather than a type-erased one:
  // every operation on it is on the hot path.
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                  boost::asio::io_context::executor_type>;

 private:
  HttpServer(std::vector<boost::asio::io_context*> workers, HttpApi& api, HttpLimits limits,
             std::shared_ptr<HttpConnectionStats> stats, std::shared_ptr<const TlsContext> tls);
  void accept();
  // Answers 503 on a connection over the limit and closes it.
  void refuse(Socket socket);

  std::vector<boost::asio::io_context*> workers_;
  size_t next_worker_ = 0;
  HttpApi& api_;
  HttpLimits limits_;
  std::shared_ptr<HttpConnectionStats> stats_;
  std::shared_ptr<const TlsContext> tls_;          // null: plain HTTP
  std::shared_ptr<std::atomic<size_t>> refusing_;  // refusals still being written
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<Socket> accepting_;  // the socket the pending accept fills
  boost::asio::steady_timer retry_{acceptor_.get_executor()};
  bool stopped_ = false;  // on workers[0]'s thread
};

}  // namespace ckv
