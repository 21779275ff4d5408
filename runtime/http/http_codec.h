// The HTTP/1.1 edges of HttpApi, shared by HttpServer and the HTTP fuzz target
// (tests/runtime/http_request_fuzz.cpp) so both parse and answer exactly alike: how a
// request parser is limited, what a parsed request becomes, which read errors get an
// answer (and which), and the Beast response an HttpResponse is sent as.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/http/http_api.h"
#include "runtime/http/http_server.h"

namespace ckv {

using HttpRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Sets a fresh parser's limits: a body over `max_body_bytes` fails with body_limit, a
// header over `limits.max_header_bytes` with header_limit (exactly so only with
// check_header_size).
void limit_request_parser(HttpRequestParser& parser, const HttpLimits& limits,
                          size_t max_body_bytes);

// After a header is read: header_limit if it took more than `limits.max_header_bytes`
// (`header_bytes`: what reading it consumed), else none. Beast bounds the request line and
// the fields by the limit each when they arrive in one read, so without this a header of
// up to twice the limit would pass, or not, depending on how the bytes were split.
boost::beast::error_code check_header_size(size_t header_bytes, const HttpLimits& limits);

// The header is read and asks for "100 Continue" before the body it announces (HTTP/1.1
// only: a 1.0 client's expectation is ignored).
bool wants_continue(const HttpRequestParser& parser);

// What HttpApi handles; the body is moved out of `request`.
HttpRequest to_api_request(BeastRequest& request);

// The answer to a failed read. None: close without one (the peer went away or stopped
// mid-request, or a deadline passed). Otherwise a 4xx, after which the connection
// closes: 413 body over the limit, 431 header over the limit, 400 anything else the
// parser refused.
std::optional<HttpResponse> rejection(boost::beast::error_code ec, const HttpLimits& limits,
                                      size_t max_body_bytes);

// A response as it goes on the wire: the status line and header fields, then the body.
struct WireResponse {
  std::string head;
  std::string body;
};

// `response` as sent, in HTTP/1.1, to a request of HTTP `request_version` (11 for 1.1).
// `head`: no body, but the Content-Length a GET would have had; `keep_alive` false: the
// connection closes after it (said so); true: it stays open (said so to a 1.0 client,
// which would otherwise close it). A response with a stream gets the head only, saying
// "Transfer-Encoding: chunked" to a 1.1 client (keep_alive must be false for a 1.0 one).
// Every response says "X-Content-Type-Options: nosniff".
// Header names and values are the server's own, or a stored content type, which the
// kernel holds to valid_content_type (no line breaks) wherever it came from.
WireResponse serialize_response(HttpResponse response, unsigned request_version, bool head,
                                bool keep_alive);

// The interim answer to `Expect: 100-continue`.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace ckv
