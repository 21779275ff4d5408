#include "runtime/http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "runtime/http/http_codec.h"
#include "runtime/log.h"
#include "runtime/security/tls.h"

namespace ckv {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

RateLimitedLog g_http_log(5, std::chrono::seconds(10));
constexpr auto kTimeoutGrace = std::chrono::seconds(1);
// How long a refused request's connection lingers, discarding what the client still sends.
constexpr auto kLinger = std::chrono::seconds(1);

using Socket = HttpServer::Socket;
using TlsStream = ssl::stream<Socket>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>,
                                         asio::io_context::executor_type>;

// One client connection: reads requests, hands each to HttpApi, writes the answers in
// order. A connection over the server's limit is a Session too, started with refuse().
// `Stream` is the plain socket or a TLS stream over it (HTTPS): the TLS handshake comes
// first, and the connection's controls (timeouts, close) act on the socket beneath.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(Socket socket, std::shared_ptr<ssl::context> tls, HttpApi& api, HttpLimits limits,
          std::shared_ptr<HttpConnectionStats> stats)
      : tls_(std::move(tls)),
        stream_(open_stream(std::move(socket), tls_.get())),
        api_(api),
        limits_(limits),
        stats_(std::move(stats)) {
    stats_->open++;
  }
  // A connection refused for the limit: counted among the refusals draining, not the open.
  Session(Socket socket, HttpLimits limits, std::shared_ptr<std::atomic<size_t>> refusing,
          HttpApi& api, std::shared_ptr<HttpConnectionStats> stats)
      : stream_(std::move(socket)),
        api_(api),
        limits_(limits),
        stats_(std::move(stats)),
        refusing_(std::move(refusing)) {
    (*refusing_)++;
  }
  ~Session() {
    if (refusing_) {
      (*refusing_)--;
    } else {
      stats_->open--;
    }
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      self->watch();
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->read_header();
      }
    });
  }

  // Answers 503 (the connection limit), lingers briefly, closes.
  void refuse() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      self->watch();
      HttpResponse r;
      r.status = 503;
      r.body = "too many connections (the limit is " +
               std::to_string(self->limits_.max_connections) + ")\n";
      r.headers.emplace_back("Retry-After", "1");
      self->write(std::move(r), /*close_after=*/true, /*linger=*/true);
    });
  }

 private:
  static Stream open_stream(Socket socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return socket;
    }
  }
  Socket& lowest() { return beast::get_lowest_layer(stream_); }

  // HTTPS: the TLS handshake, within the read timeout like a request.
  void handshake() {
    busy();
    stream_.async_handshake(
        ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
          if (ec && !self->timed_out_ && ec.category() == asio::error::get_ssl_category() &&
              ERR_GET_REASON(ec.value()) == SSL_R_HTTP_REQUEST) {
            return self->refuse_plain_http();
          }
          if (ec || self->timed_out_) {
            if (ec && ec != asio::error::operation_aborted) {
              g_http_log(LogLevel::kInfo, "a TLS handshake failed: " + ec.message());
            }
            return self->close();
          }
          self->read_header();
        });
  }

  // Plain HTTP sent to the HTTPS port: told so in plain HTTP, as it would otherwise see
  // the connection close without a word.
  void refuse_plain_http() {
    static constexpr std::string_view kAnswer =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 43\r\nConnection: close\r\n\r\n"
        "this port serves HTTPS: use https:// URLs\r\n";
    busy();
    asio::async_write(
        lowest(), asio::buffer(kAnswer),
        [self = this->shared_from_this()](beast::error_code, size_t) { self->close(); });
  }

  void read_header() {
    parser_.emplace();
    limit_request_parser(*parser_, limits_, api_.max_body_bytes());
    busy();
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t header_bytes) {
          self->on_header(ec ? ec : check_header_size(header_bytes, self->limits_));
        });
  }

  void on_header(beast::error_code ec) {
    if (ec || timed_out_) return fail(ec);  // timed out: the read beat the cancel
    // No body, or all of it came with the header (a small POST): no more reads.
    if (!parser_->is_done() && buffer_.size() > 0 && !wants_continue(*parser_)) {
      parser_->eager(true);
      beast::error_code body_ec;
      buffer_.consume(parser_->put(buffer_.data(), body_ec));
      if (body_ec && body_ec != http::error::need_more) return fail(body_ec);
    }
    if (parser_->is_done()) return dispatch();
    if (wants_continue(*parser_)) {
      busy();
      asio::async_write(stream_, asio::buffer(kContinueResponse),
                        [self = this->shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec || self->timed_out_) return self->fail(ec);
                       self->dispatch();
                     });
  }

  void dispatch() {
    busy_ = false;  // the node is working; the client is not holding us up
    auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    HttpRequest request = to_api_request(req);
    parser_.reset();
    head_ = request.method == HttpMethod::kHead;
    api_.handle(std::move(request), [self = this->shared_from_this()](HttpResponse response) {
      // dispatch: answers made on this thread (local hits, cluster endpoints) go out at once.
      asio::dispatch(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable {
                       self->write(std::move(response), !self->keep_alive_);
                     });
    });
  }

  // Parser errors: answer with a 4xx and close; a peer that went away: just close.
  void fail(beast::error_code ec) {
    if (timed_out_) return answer_timeout();
    if constexpr (kTls) {
      // A TLS failure (a client that closed without close_notify, a bad record): no HTTP
      // answer can reach it.
      if (ec.category() == asio::error::get_ssl_category() ||
          ec.category() == ssl::error::get_stream_category()) {
        return close();
      }
    }
    std::optional<HttpResponse> r = rejection(ec, limits_, api_.max_body_bytes());
    if (!r) return close();
    g_http_log(LogLevel::kInfo, "rejected an HTTP request with " + std::to_string(r->status) +
                                    ": " + r->body.substr(0, r->body.size() - 1));
    version_ = 11;
    head_ = false;
    write(std::move(*r), /*close_after=*/true, /*linger=*/true);
  }

  // `linger`: the request was refused mid-way and the client may still be sending; stop
  // writing, read and discard for up to kLinger, then close, so the answer is not lost
  // to a reset.
  void write(HttpResponse r, bool close_after, bool linger = false) {
    std::shared_ptr<BodyStream> stream = head_ ? nullptr : r.stream;
    if (stream && version_ < 11) close_after = true;  // the body ends where the connection does
    out_ = serialize_response(std::move(r), version_, head_, /*keep_alive=*/!close_after);
    if constexpr (kTls) {
      // One TLS record for head and body: the stream would seal each buffer separately.
      if (out_.body.size() <= 16 * 1024) {
        out_.head += out_.body;
        out_.body.clear();
      }
    }
    busy();
    writing_ = true;
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_.head), asio::buffer(out_.body)};
    asio::async_write(stream_, buffers,
                      [self = this->shared_from_this(), close_after, linger,
                       stream = std::move(stream)](beast::error_code ec, size_t) mutable {
                        self->writing_ = false;
                        if (!ec && linger) return self->drain();
                        if (ec) return self->close();
                        if (stream) return self->pull(std::move(stream), close_after);
                        if (close_after) return self->close();
                        self->read_header();
                      });
  }

  // Asks `stream` for its next piece; writes it once it comes (on this connection's thread).
  void pull(std::shared_ptr<BodyStream> stream, bool close_after) {
    busy_ = false;  // waiting for the producer, not the client
    BodyStream& source = *stream;
    source.next([self = this->shared_from_this(), stream = std::move(stream), close_after](
                    std::string piece, bool last) mutable {
      asio::dispatch(self->stream_.get_executor(), [self, stream = std::move(stream), close_after,
                                                    piece = std::move(piece), last]() mutable {
        self->write_piece(std::move(stream), close_after, std::move(piece), last);
      });
    });
  }

  void write_piece(std::shared_ptr<BodyStream> stream, bool close_after, std::string piece,
                   bool last) {
    if (closed_) return;  // the client went away: the stream is dropped here
    const bool chunked = version_ >= 11;
    piece_ = std::move(piece);
    chunk_head_.clear();
    chunk_tail_.clear();
    if (chunked && !piece_.empty()) {
      static const char* hex = "0123456789abcdef";
      for (size_t n = piece_.size(); n != 0; n >>= 4)
        chunk_head_.insert(chunk_head_.begin(), hex[n & 15]);
      chunk_head_ += "\r\n";
      chunk_tail_ = "\r\n";
    }
    if (chunked && last) chunk_tail_ += "0\r\n\r\n";
    auto after = [self = this->shared_from_this(), stream = std::move(stream), close_after, last](
                     beast::error_code ec, size_t) mutable {
      self->writing_ = false;
      if (ec) return self->close();
      if (!last) return self->pull(std::move(stream), close_after);
      if (close_after || stream->closes_connection()) return self->close();
      self->read_header();
    };
    if (piece_.empty() && chunk_tail_.empty()) return after({}, 0);  // nothing to send yet
    busy();
    writing_ = true;
    std::array<asio::const_buffer, 3> buffers{asio::buffer(chunk_head_), asio::buffer(piece_),
                                              asio::buffer(chunk_tail_)};
    asio::async_write(stream_, buffers, std::move(after));
  }

  void drain() {
    busy_ = false;  // the deadline below is the only one now
    beast::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_send, ignored);
    close_by(std::chrono::steady_clock::now() + kLinger);
    drain_buffer_.resize(16 * 1024);
    discard();
  }

  void discard() {
    lowest().async_read_some(asio::buffer(drain_buffer_),
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->close();
                               self->discard();
                             });
  }

  // One timer per connection, checked every tick, instead of a deadline set for every
  // read and write (re-arming a timer per operation cost a fifth of the request rate).
  // A read or write that has made no request complete for read_timeout ends the
  // connection: a slow or silent client cannot hold it forever. A connection that is
  // closing (a 408, a lingering refusal) has a hard deadline: whatever its client does,
  // it is closed then.
  void watch() {
    watchdog_.expires_after(watch_tick());
    watchdog_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      auto now = std::chrono::steady_clock::now();
      if (self->close_at_ && now >= *self->close_at_) return self->close();
      if (!self->timed_out_ && self->busy_ &&
          now - self->busy_since_ > self->limits_.read_timeout) {
        self->time_out();
      }
      if (!self->closed_) self->watch();
    });
  }
  std::chrono::milliseconds watch_tick() const {
    auto tenth = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.read_timeout) / 10;
    if (close_at_) tenth = std::min(tenth, std::chrono::milliseconds(100));
    return std::clamp(tenth, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  }
  // Closes the connection at `at` at the latest. Re-arms the watchdog, whose pending
  // tick may be further off than that.
  void close_by(std::chrono::steady_clock::time_point at) {
    if (close_at_ && *close_at_ <= at) return;
    close_at_ = at;
    if (!closed_) watch();
  }

  // Part of a request arrived but not all of it in time: stop reading and answer 408
  // (through fail(), once the cancelled read returns). Otherwise the connection was idle
  // between requests, or the client is not reading its response: just close.
  void time_out() {
    bool mid_request = !writing_ && (buffer_.size() > 0 || (parser_ && parser_->got_some()));
    if (!mid_request) {
      if (writing_) {
        stats_->timed_out++;
        g_http_log(LogLevel::kInfo,
                   "closed an HTTP connection: its client did not read the "
                   "response in time");
      }
      return close();
    }
    stats_->timed_out++;
    timed_out_ = true;
    close_by(std::chrono::steady_clock::now() + kTimeoutGrace);
    beast::error_code ignored;
    lowest().cancel(ignored);
  }

  void answer_timeout() {
    auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.read_timeout);
    g_http_log(LogLevel::kInfo, "answered 408: a request did not arrive whole within " +
                                    std::to_string(seconds.count()) + " ms");
    HttpResponse r;
    r.status = 408;
    r.body = "the request did not arrive whole within " + std::to_string(seconds.count()) + " ms\n";
    version_ = 11;
    head_ = false;
    write(std::move(r), /*close_after=*/true, /*linger=*/true);
  }

  void busy() {
    busy_ = true;
    busy_since_ = std::chrono::steady_clock::now();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    watchdog_.cancel();
    beast::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().close(ignored);
  }

  std::shared_ptr<ssl::context> tls_;  // HTTPS: kept alive as long as the stream using it
  Stream stream_;
  Timer watchdog_{stream_.get_executor()};
  bool closed_ = false;
  bool busy_ = false;       // a read or write is waiting on the client
  bool writing_ = false;    // a response is being written
  bool timed_out_ = false;  // the pending read was cancelled by the watchdog
  std::optional<std::chrono::steady_clock::time_point> close_at_;  // closing, at the latest then
  std::chrono::steady_clock::time_point busy_since_;
  beast::flat_buffer buffer_;
  std::vector<char> drain_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  WireResponse out_;  // the response being written
  // The piece of a streamed body being written, with its chunk's size line and end.
  std::string piece_;
  std::string chunk_head_;
  std::string chunk_tail_;
  HttpApi& api_;
  HttpLimits limits_;
  std::shared_ptr<HttpConnectionStats> stats_;
  std::shared_ptr<std::atomic<size_t>> refusing_;  // set for a refused connection
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
};

// Refusals draining at once; beyond this a refused connection is closed without an answer.
constexpr size_t kMaxRefusalsInFlight = 64;

}  // namespace

HttpServer::HttpServer(std::vector<asio::io_context*> workers, HttpApi& api, HttpLimits limits,
                       std::shared_ptr<HttpConnectionStats> stats,
                       std::shared_ptr<const TlsContext> tls)
    : workers_(std::move(workers)),
      api_(api),
      limits_(limits),
      stats_(std::move(stats)),
      tls_(std::move(tls)),
      refusing_(std::make_shared<std::atomic<size_t>>(0)),
      acceptor_(*workers_.front()) {}

Result<std::unique_ptr<HttpServer>> HttpServer::open(std::vector<asio::io_context*> workers,
                                                     Address at, HttpApi& api, HttpLimits limits,
                                                     std::shared_ptr<HttpConnectionStats> stats,
                                                     std::shared_ptr<const TlsContext> tls) {
  std::unique_ptr<HttpServer> s(
      new HttpServer(std::move(workers), api, limits, std::move(stats), std::move(tls)));
  beast::error_code ec;
  tcp::endpoint endpoint(asio::ip::address_v4(at.ip), at.port);
  s->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) s->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s->acceptor_.bind(endpoint, ec);
  if (!ec) s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{ErrorCode::kIoError,
                 "cannot listen for HTTP on " + at.to_string() + ": " + ec.message()};
  }
  s->accept();
  return s;
}

void HttpServer::accept() {
  // The handler runs on workers[0]'s thread, as does stop(); the new connection lives on
  // the next worker in turn.
  asio::io_context& worker = *workers_[next_worker_++ % workers_.size()];
  accepting_.emplace(worker.get_executor());
  acceptor_.async_accept(*accepting_, [this](beast::error_code ec) {
    if (stopped_ || ec == asio::error::operation_aborted) {
      beast::error_code ignored;
      accepting_->close(ignored);  // accepted just as the server stopped
      return;
    }
    if (ec) {
      // Out of file descriptors, typically: the connection stays queued, so retrying at
      // once would spin. Wait a little.
      g_http_log(LogLevel::kWarn, "accepting an HTTP connection failed: " + ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !stopped_) accept();
      });
      return;
    }
    Socket socket = std::move(*accepting_);
    if (stats_->open.load() >= limits_.max_connections) {
      refuse(std::move(socket));
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_) {
        std::make_shared<Session<TlsStream>>(std::move(socket), tls_->current(), api_, limits_,
                                             stats_)
            ->start();
      } else {
        std::make_shared<Session<Socket>>(std::move(socket), nullptr, api_, limits_, stats_)
            ->start();
      }
    }
    accept();
  });
}

void HttpServer::refuse(Socket socket) {
  stats_->refused++;
  g_http_log(LogLevel::kWarn,
             "refused an HTTP connection: " + std::to_string(limits_.max_connections) +
                 " are open (--http-max-connections)");
  if (refusing_->load() >= kMaxRefusalsInFlight || tls_) {
    // (Over HTTPS a 503 would need a handshake first: the connection is just closed.)
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  std::make_shared<Session<Socket>>(std::move(socket), limits_, refusing_, api_, stats_)->refuse();
}

void HttpServer::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    stopped_ = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
  });
}

}  // namespace ckv
