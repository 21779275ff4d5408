// Unit tests of runtime/http/http_codec.h, the HTTP edges the server shares with the fuzz
// target: the header limit holds for the whole header however its bytes arrive (a bug
// http_request_fuzz found), what read errors are answered with, and responses as sent.
#include "runtime/http/http_codec.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace ckv {
namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;

// A request whose header (request line to the empty line) is `bytes` long.
std::string request_with_header_of(size_t bytes) {
  const std::string start = "GET /k HTTP/1.1\r\nX-Pad: ";
  return start + std::string(bytes - start.size() - 4, 'a') + "\r\n\r\n";
}

// The verdict on a header that arrives in one read, as the server reaches it.
error_code read_header_at_once(const std::string& request, const HttpLimits& limits) {
  HttpRequestParser parser;
  limit_request_parser(parser, limits, 1024);
  parser.eager(false);
  error_code ec;
  const size_t used = parser.put(boost::asio::buffer(request), ec);
  if (ec) return ec;
  EXPECT_TRUE(parser.is_header_done());
  return check_header_size(used, limits);
}

TEST(HttpCodec, TheHeaderLimitCountsTheWholeHeader) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  EXPECT_FALSE(read_header_at_once(request_with_header_of(1024), limits));
  // The request line and the fields are each under the limit, which is all Beast checks
  // of a header that arrives in one read; together they are over it.
  EXPECT_EQ(read_header_at_once(request_with_header_of(1030), limits), http::error::header_limit);
  EXPECT_EQ(read_header_at_once(request_with_header_of(2000), limits), http::error::header_limit);
}

TEST(HttpCodec, ParserErrorsAre4xxAndAGoneClientNothing) {
  const HttpLimits limits;
  EXPECT_EQ(rejection(http::error::body_limit, limits, 10)->status, 413u);
  EXPECT_EQ(rejection(http::error::header_limit, limits, 10)->status, 431u);
  EXPECT_EQ(rejection(http::error::bad_method, limits, 10)->status, 400u);
  EXPECT_EQ(rejection(http::error::bad_chunk, limits, 10)->status, 400u);
  EXPECT_FALSE(rejection(http::error::end_of_stream, limits, 10));
  EXPECT_FALSE(rejection(http::error::partial_message, limits, 10));
  EXPECT_FALSE(rejection(boost::asio::error::connection_reset, limits, 10));
}

// `wire` parsed back as a client does; `head`: the answer to a HEAD request.
http::response<http::string_body> parse_response(const WireResponse& wire, bool head) {
  const std::string bytes = wire.head + wire.body;
  http::response_parser<http::string_body> parser;
  parser.skip(head);
  parser.eager(true);
  error_code ec;
  size_t used = parser.put(boost::asio::buffer(bytes), ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << bytes;
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, bytes.size()) << "nothing may follow the response";
  return parser.release();
}

TEST(HttpCodec, HeadResponsesAnnounceTheLengthAndSendNoBody) {
  HttpResponse r;
  r.body = "hello";
  r.etag = "\"1\"";
  WireResponse head_wire = serialize_response(r, 11, /*head=*/true, /*keep_alive=*/false);
  EXPECT_TRUE(head_wire.body.empty());
  auto head = parse_response(head_wire, true);
  EXPECT_EQ(head[http::field::content_length], "5");
  EXPECT_TRUE(head.body().empty());
  EXPECT_FALSE(head.keep_alive());
  EXPECT_EQ(head[http::field::etag], "\"1\"");
  auto get = parse_response(serialize_response(r, 11, /*head=*/false, /*keep_alive=*/true), false);
  EXPECT_EQ(get.body(), "hello");
  EXPECT_EQ(get[http::field::content_length], "5");
  EXPECT_TRUE(get.keep_alive());
  EXPECT_EQ(get[http::field::server], "cluster-kv");
  EXPECT_EQ(get[http::field::content_type], "text/plain; charset=utf-8");
}

TEST(HttpCodec, ResponsesAreHttp11AndSayWhetherTheConnectionStaysOpen) {
  HttpResponse r;
  r.status = 404;
  r.content_type = nullptr;
  // To a 1.0 client too: the server answers in its own version (RFC 9110 6.2), and tells
  // a 1.0 client that keeps the connection so, since it would otherwise close it.
  WireResponse wire = serialize_response(r, 10, false, /*keep_alive=*/true);
  EXPECT_EQ(wire.head.substr(0, wire.head.find('\r')), "HTTP/1.1 404 Not Found");
  EXPECT_NE(wire.head.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  auto kept = parse_response(wire, false);
  EXPECT_EQ(kept.version(), 11u);
  EXPECT_TRUE(kept.keep_alive());
  EXPECT_EQ(kept.count(http::field::content_type), 0u);
  EXPECT_EQ(kept[http::field::content_length], "0");
  WireResponse to_11 = serialize_response(r, 11, false, /*keep_alive=*/true);
  EXPECT_EQ(to_11.head.find("Connection:"), std::string::npos) << "1.1 keeps it by default";
  EXPECT_FALSE(parse_response(serialize_response(r, 10, false, false), false).keep_alive());
  r.status = 503;
  auto closing = parse_response(serialize_response(r, 11, false, false), false);
  EXPECT_EQ(closing.result_int(), 503u);
  EXPECT_EQ(closing.reason(), "Service Unavailable");
  EXPECT_FALSE(closing.keep_alive());
}

TEST(HttpCodec, A304HasNeitherBodyNorContentLength) {
  HttpResponse r;
  r.status = 304;
  r.content_type = nullptr;
  r.etag = "\"1\"";
  r.body = "ignored";
  WireResponse wire = serialize_response(r, 11, /*head=*/false, /*keep_alive=*/true);
  EXPECT_TRUE(wire.body.empty());
  EXPECT_EQ(wire.head.find("Content-Length"), std::string::npos);
  EXPECT_NE(wire.head.find("ETag: \"1\"\r\n"), std::string::npos);
}

TEST(HttpCodec, EveryResponseSaysNosniff) {
  for (unsigned status : {200u, 304u, 404u, 503u}) {
    HttpResponse r;
    r.status = status;
    EXPECT_NE(
        serialize_response(r, 11, false, true).head.find("X-Content-Type-Options: nosniff\r\n"),
        std::string::npos)
        << status;
  }
}

// A streamed body: the head only, chunked to a 1.1 client; to a 1.0 client neither a
// length nor chunks (the connection's end ends it).
TEST(HttpCodec, AStreamedResponseIsChunkedWithoutALength) {
  struct Nothing : BodyStream {
    void next(Deliver deliver) override { deliver({}, true); }
  };
  HttpResponse r;
  r.body = "not sent";
  r.stream = std::make_shared<Nothing>();
  WireResponse to_11 = serialize_response(r, 11, false, /*keep_alive=*/true);
  EXPECT_TRUE(to_11.body.empty());
  EXPECT_NE(to_11.head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(to_11.head.find("Content-Length"), std::string::npos);
  auto parsed = parse_response(WireResponse{to_11.head + "3\r\nabc\r\n0\r\n\r\n", ""}, false);
  EXPECT_EQ(parsed.body(), "abc");
  WireResponse to_10 = serialize_response(r, 10, false, /*keep_alive=*/false);
  EXPECT_EQ(to_10.head.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(to_10.head.find("Content-Length"), std::string::npos);
  EXPECT_NE(to_10.head.find("Connection: close\r\n"), std::string::npos);
}

TEST(HttpCodec, ARequestKeepsItsContentType) {
  BeastRequest beast{http::verb::put, "/k", 11};
  beast.set(http::field::content_type, "application/json; charset=utf-8");
  beast.set(http::field::content_encoding, "gzip");
  const HttpRequest request = to_api_request(beast);
  EXPECT_EQ(request.content.media, "application/json; charset=utf-8");
  EXPECT_EQ(request.content.encoding, "gzip");
  BeastRequest plain{http::verb::put, "/k", 11};
  EXPECT_TRUE(to_api_request(plain).content.empty());
}

TEST(HttpCodec, ARequestKeepsItsPreconditions) {
  BeastRequest beast{http::verb::get, "/k", 11};
  beast.set(http::field::if_none_match, "\"a\", W/\"b\"");
  beast.set(http::field::if_match, "*");
  beast.set(http::field::if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
  const HttpRequest request = to_api_request(beast);
  EXPECT_EQ(request.conditions.if_none_match, "\"a\", W/\"b\"");
  EXPECT_EQ(request.conditions.if_match, "*");
  EXPECT_EQ(request.conditions.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
  BeastRequest plain{http::verb::get, "/k", 11};
  EXPECT_TRUE(to_api_request(plain).conditions.if_none_match.empty());
}

}  // namespace
}  // namespace ckv
