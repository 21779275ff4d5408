#include "runtime/cli/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>

namespace ckv {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

Error unreachable(const NodeUrl& node, const std::string& why) {
  return Error{ErrorCode::kIoError, "cannot reach " + node.to_string() + ": " + why};
}

// The request and the answer's parts, alive until the io_context stops.
struct Exchange {
  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  std::optional<Result<ClientResponse>> result;
};

// Writes the request and reads the answer on `stream` (asynchronously: the caller runs the
// io_context for at most the timeout).
template <class Stream>
void send_and_read(Stream& stream, const ClientOptions& o, Exchange& x) {
  http::async_write(stream, x.request, [&stream, &o, &x](beast::error_code ec, size_t) {
    if (ec) {
      x.result = unreachable(o.node, "sending the request: " + ec.message());
      return;
    }
    http::async_read(stream, x.buffer, x.parser, [&o, &x](beast::error_code rec, size_t) {
      if (rec) {
        x.result = unreachable(o.node, "reading the answer: " + rec.message());
        return;
      }
      auto& response = x.parser.get();
      ClientResponse out;
      out.status = response.result_int();
      out.body = std::move(response.body());
      for (const auto& field : response) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      x.result = std::move(out);
    });
  });
}

bool lower_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string NodeUrl::to_string() const {
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

Result<NodeUrl> parse_node_url(std::string_view text) {
  NodeUrl url;
  auto bad = [&](const std::string& why) {
    return Error{ErrorCode::kInvalidArgument, "bad node URL '" + std::string(text) + "': " + why +
                                                  " (want http://HOST:PORT or https://HOST:PORT)"};
  };
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return bad("only http and https");
  }
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("a node URL has no path");
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("the port must be 1..65535");
    }
    url.port = static_cast<uint16_t>(value);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad("no host");
  url.host = std::string(rest);
  return url;
}

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (lower_equal(n, name)) return v;
  }
  return "";
}

std::string key_target(std::string_view key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "/";
  for (unsigned char c : key) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<ClientResponse> http_call(const ClientOptions& o, std::string_view method,
                                 std::string_view target, std::string body,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  asio::io_context io;
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(o.node.host, std::to_string(o.node.port), ec);
  if (ec) return unreachable(o.node, "cannot resolve " + o.node.host + ": " + ec.message());

  Exchange x;
  http::request<http::string_body>& request = x.request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, o.node.host);
  request.set(http::field::user_agent, "cluster-kv-cli");
  request.set(http::field::connection, "close");
  if (!o.token.empty()) request.set(http::field::authorization, "Bearer " + o.token);
  for (auto& [name, value] : headers)
    request.set(name, value);
  if (!body.empty() || method == "PUT" || method == "POST") {
    request.body() = std::move(body);
    request.prepare_payload();
  }

  x.parser.body_limit(size_t{1} << 30);
  tcp::socket socket(io);
  std::optional<ssl::context> ctx;
  std::optional<ssl::stream<tcp::socket&>> tls;
  if (o.node.tls) {
    ctx.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    if (o.cacert.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(o.cacert, ec);
    }
    if (ec) {
      return Error{ErrorCode::kInvalidArgument,
                   "cannot use the CA file " + o.cacert + ": " + ec.message()};
    }
    ctx->set_verify_mode(ssl::verify_peer);
    tls.emplace(socket, *ctx);
    // The certificate must name the host as given: a DNS name, or an IP address.
    X509_VERIFY_PARAM* param = SSL_get0_param(tls->native_handle());
    boost::system::error_code not_ip;
    asio::ip::make_address(o.node.host, not_ip);
    if (!not_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, o.node.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, o.node.host.c_str(), 0);
      SSL_set_tlsext_host_name(tls->native_handle(), o.node.host.c_str());
    }
  }
  asio::async_connect(socket, endpoints, [&](beast::error_code cec, const tcp::endpoint&) {
    if (cec) {
      x.result = unreachable(o.node, cec.message());
      return;
    }
    if (!tls) return send_and_read(socket, o, x);
    tls->async_handshake(ssl::stream_base::client, [&](beast::error_code hec) {
      if (hec) {
        x.result = unreachable(o.node, "TLS: " + hec.message());
        return;
      }
      send_and_read(*tls, o, x);
    });
  });
  io.run_for(o.timeout);
  if (!x.result) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(o.timeout).count();
    return unreachable(o.node, "no answer within " + std::to_string(ms) + " ms");
  }
  return std::move(*x.result);
}

}  // namespace ckv
