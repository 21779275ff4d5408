// The HTTP/1.1 edges of HttpApi shared by the server and the fuzz target (http_codec.h).
#include "runtime/http/http_codec.h"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

namespace ckv {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

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

}  // namespace

void limit_request_parser(HttpRequestParser& parser, const HttpLimits& limits,
                          size_t max_body_bytes) {
  parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
  parser.body_limit(max_body_bytes);
}

beast::error_code check_header_size(size_t header_bytes, const HttpLimits& limits) {
  if (header_bytes > limits.max_header_bytes) return http::error::header_limit;
  return {};
}

bool wants_continue(const HttpRequestParser& parser) {
  // HTTP/1.0 has no 100 Continue: a 1.0 client's expectation is ignored (RFC 9110 10.1.1).
  return parser.get().version() >= 11 &&
         beast::iequals(parser.get()[http::field::expect], "100-continue") && !parser.is_done();
}

HttpRequest to_api_request(BeastRequest& request) {
  HttpRequest out;
  out.method = method_of(request.method());
  out.target = std::string(request.target());
  out.body = std::move(request.body());
  auto field = [&](http::field name) { return std::string(request[name]); };
  out.conditions.if_match = field(http::field::if_match);
  out.conditions.if_none_match = field(http::field::if_none_match);
  out.conditions.if_modified_since = field(http::field::if_modified_since);
  out.content.media = field(http::field::content_type);
  out.content.encoding = field(http::field::content_encoding);
  out.last_event_id = std::string(request["Last-Event-ID"]);
  out.authorization = field(http::field::authorization);
  return out;
}

std::optional<HttpResponse> rejection(beast::error_code ec, const HttpLimits& limits,
                                      size_t max_body_bytes) {
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    return std::nullopt;
  }
  if (ec == beast::error::timeout) return std::nullopt;  // the lingering drain's deadline
  if (ec == http::error::partial_message) return std::nullopt;
  HttpResponse r;
  r.status = 400;
  std::string why = "malformed request: " + ec.message();
  if (ec == http::error::body_limit) {
    r.status = 413;
    why = "body over the limit of " + std::to_string(max_body_bytes) + " bytes";
  } else if (ec == http::error::header_limit) {
    r.status = 431;
    why = "request header over the limit of " + std::to_string(limits.max_header_bytes) + " bytes";
  }
  r.body = why + "\n";
  return r;
}

WireResponse serialize_response(HttpResponse response, unsigned request_version, bool head,
                                bool keep_alive) {
  const std::string length = std::to_string(response.body.size());
  const std::string_view reason = http::obsolete_reason(static_cast<http::status>(response.status));
  WireResponse out;
  std::string& h = out.head;
  const std::string_view type = response.content_type ? response.content_type : "";
  size_t size = 128 + type.size() + reason.size() + response.etag.size();
  for (const auto& [name, value] : response.headers)
    size += name.size() + value.size() + 4;
  h.reserve(size);   // one allocation for the whole head
  h += "HTTP/1.1 ";  // the server's version, whatever the request's (RFC 9110 6.2)
  h += std::to_string(response.status);
  h += ' ';
  h += reason;
  // nosniff: a browser renders a value only as the type it was stored with, never as
  // what its bytes look like (a value stored as text/plain stays text, not script).
  h += "\r\nServer: cluster-kv\r\nX-Content-Type-Options: nosniff\r\n";
  if (!type.empty()) {
    h += "Content-Type: ";
    h += type;
    h += "\r\n";
  }
  if (!response.etag.empty()) {
    h += "ETag: ";
    h += response.etag;
    h += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  }
  // HTTP/1.1 keeps a connection unless told otherwise; a 1.0 client closes it unless told.
  if (!keep_alive) {
    h += "Connection: close\r\n";
  } else if (request_version < 11) {
    h += "Connection: keep-alive\r\n";
  }
  // A 304 has no body, and no Content-Length: it would have to be the 200's (RFC 9110 8.6).
  // A streamed body is chunked (to a 1.0 client: ended by closing the connection).
  if (response.stream) {
    if (request_version >= 11) h += "Transfer-Encoding: chunked\r\n";
  } else if (response.status != 304) {
    h += "Content-Length: ";
    h += length;  // for HEAD, the length a GET would send, and no body
    h += "\r\n";
  }
  h += "\r\n";
  if (!head && response.status != 304 && !response.stream) out.body = std::move(response.body);
  return out;
}

}  // namespace ckv
