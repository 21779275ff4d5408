#include "runtime/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "runtime/log.h"

namespace ckv {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

RateLimitedLog g_http_log(5, std::chrono::seconds(10));

HttpMethod method_of(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return HttpMethod::kGet;
    case http::verb::head:
      return HttpMethod::kHead;
    case http::verb::post:
      return HttpMethod::kPost;
    case http::verb::put:
      return HttpMethod::kPut;
    case http::verb::delete_:
      return HttpMethod::kDelete;
    default:
      return HttpMethod::kOther;
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpApi& api, HttpLimits limits)
      : stream_(std::move(socket)), api_(api), limits_(limits) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->watch();
      self->read_header();
    });
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(api_.max_body_bytes());
    busy();
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail(ec);
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->fail(ec);
                       self->dispatch();
                     });
  }

  void dispatch() {
    busy_ = false;  // the node is working; the client is not holding us up
    auto req = parser_->release();
    parser_.reset();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    HttpRequest request;
    request.method = method_of(req.method());
    request.target = std::string(req.target());
    request.body = std::move(req.body());
    head_ = request.method == HttpMethod::kHead;
    api_.handle(std::move(request), [self = shared_from_this()](HttpResponse response) {
      // dispatch: answers made on this strand (local hits, cluster endpoints) go out at once.
      asio::dispatch(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable {
                       self->write(std::move(response), !self->keep_alive_);
                     });
    });
  }

  // Parser errors: answer with a 4xx and close; a peer that went away: just close.
  void fail(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == beast::error::timeout) return close();  // the lingering drain's deadline
    if (ec == http::error::partial_message) return close();
    unsigned status = 400;
    std::string why = "malformed request: " + ec.message();
    if (ec == http::error::body_limit) {
      status = 413;
      why = "body over the limit of " + std::to_string(api_.max_body_bytes()) + " bytes";
    } else if (ec == http::error::header_limit) {
      status = 431;
      why =
          "request header over the limit of " + std::to_string(limits_.max_header_bytes) + " bytes";
    }
    g_http_log(LogLevel::kInfo,
               "rejected an HTTP request with " + std::to_string(status) + ": " + why);
    HttpResponse r;
    r.status = status;
    r.body = why + "\n";
    version_ = 11;
    head_ = false;
    write(std::move(r), /*close_after=*/true, /*linger=*/true);
  }

  // `linger`: the request was refused mid-way and the client may still be sending; stop
  // writing, read and discard for up to a second, then close, so the answer is not lost
  // to a reset.
  void write(HttpResponse r, bool close_after, bool linger = false) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "cluster-kv");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers)
      res->set(name, value);
    res->keep_alive(!close_after);
    size_t length = r.body.size();
    if (head_) {
      res->content_length(length);  // the length a GET would send, and no body
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    busy();
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, close_after, linger](beast::error_code ec, size_t) {
          if (!ec && linger) return self->drain();
          if (ec || close_after) return self->close();
          self->read_header();
        });
  }

  void drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));  // one deadline for all the reads
    drain_buffer_.resize(16 * 1024);
    discard();
  }

  void discard() {
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->discard();
                            });
  }

  // One timer per connection, checked once a second, instead of a deadline set for every
  // read and write (re-arming a timer per operation cost a fifth of the request rate).
  // A read or write that has made no request complete for read_timeout closes the
  // connection: a slow or silent client cannot hold it forever.
  void watch() {
    watchdog_.expires_after(std::chrono::seconds(1));
    watchdog_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->busy_ &&
          std::chrono::steady_clock::now() - self->busy_since_ > self->limits_.read_timeout) {
        g_http_log(LogLevel::kInfo, "closed an HTTP connection: no request completed in time");
        return self->close();
      }
      self->watch();
    });
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
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer watchdog_{stream_.get_executor()};
  bool closed_ = false;
  bool busy_ = false;  // a read or write is waiting on the client
  std::chrono::steady_clock::time_point busy_since_;
  beast::flat_buffer buffer_;
  std::vector<char> drain_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpApi& api_;
  HttpLimits limits_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
};

}  // namespace

HttpServer::HttpServer(std::vector<asio::io_context*> workers, HttpApi& api, HttpLimits limits)
    : workers_(std::move(workers)), api_(api), limits_(limits), acceptor_(*workers_.front()) {}

Result<std::unique_ptr<HttpServer>> HttpServer::open(std::vector<asio::io_context*> workers,
                                                     Address at, HttpApi& api, HttpLimits limits) {
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(workers), api, limits));
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
  acceptor_.async_accept(worker, [this](beast::error_code ec, tcp::socket socket) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
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
    {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), api_, limits_)->start();
    }
    accept();
  });
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
