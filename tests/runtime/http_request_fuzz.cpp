// libFuzzer target for the HTTP request path: the input is what one client sends on a
// connection before it half-closes. As HttpServer's sessions do (with the same parser
// limits, request conversion, rejections and responses: runtime/http/http_codec.h), requests
// are read one after another from those bytes and each goes to the real HttpApi over a
// real NodeDriver (one node, no peers, RocksDB in a temporary directory made once per
// process), until the bytes end, a response closes the connection, or the parser refuses
// a request (answered 4xx, then closed). Checked beyond "no crash":
//  - every response (and "100 Continue") parses back as well-formed HTTP/1.x with a
//    status in 100..599 and exactly its announced body (none for HEAD);
//  - what the parser refuses is answered 4xx; a working node alone never answers 5xx;
//  - HttpApi answers each request exactly once;
//  - the bytes arriving in small pieces (the last input byte picks their size) parse to
//    the same requests as arriving at once, and end the reading alike (see below).
// Seeds: http_request_fuzz_corpus/ (http_request_fuzz_seeds.sh); tokens: .dict beside it.
// CKV_FUZZ_TRACE=1 prints each request and its status, for running one input by hand.
#include <stdlib.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "runtime/http/http_api.h"
#include "runtime/http/http_codec.h"
#include "runtime/http/http_server.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/node_driver.h"
#include "runtime/store/rocks_store.h"

namespace {

using namespace ckv;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

void require(bool ok, const char* invariant) {
  if (ok) return;
  std::fprintf(stderr, "http_request_fuzz: broken invariant: %s\n", invariant);
  std::abort();
}

// The one node every input talks to. Never destroyed: RocksDB's threads and the node's
// timers live as long as the process.
struct LoneNode {
  asio::io_context io{1};
  std::unique_ptr<RocksStore> store;
  std::unique_ptr<NodeDriver> driver;
  Metrics metrics;
  std::unique_ptr<HttpApi> api;
};

std::filesystem::path g_data_dir;  // removed at exit

LoneNode& lone_node() {
  static LoneNode* node = [] {
    set_log_level(LogLevel::kError);
    std::string dir = (std::filesystem::temp_directory_path() / "ckv-http-fuzz-XXXXXX").string();
    require(mkdtemp(dir.data()) != nullptr, "a temporary data directory can be made");
    g_data_dir = dir;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(g_data_dir, ignored);
    });
    auto* n = new LoneNode;
    auto store = RocksStore::open(RocksStoreOptions{dir, false});
    require(store.ok(), "the store opens");
    n->store = std::move(*store);
    DriverConfig config;
    config.name = "fuzz";
    config.bind = config.advertise = Address{0x7f000001, 0};  // any free port, loopback only
    config.cluster_tag = cluster_tag("http-fuzz");
    auto driver = NodeDriver::start(n->io, config, *n->store);
    require(driver.ok(), "the node starts");
    n->driver = std::move(*driver);
    n->api = std::make_unique<HttpApi>(*n->driver, n->metrics, *n->store, config.node.kv);
    n->io.poll();  // founds its cluster of one
    return n;
  }();
  return *node;
}

// HttpApi::handle, waited for on this thread (which runs the node's io_context).
HttpResponse answer(HttpRequest request) {
  LoneNode& node = lone_node();
  struct Slot {
    int calls = 0;
    std::optional<HttpResponse> response;
  };
  auto slot = std::make_shared<Slot>();
  node.api->handle(std::move(request), [slot](HttpResponse r) {
    require(++slot->calls == 1, "HttpApi answers a request once");
    slot->response = std::move(r);
  });
  node.io.restart();
  while (!slot->response) {
    require(node.io.run_one() > 0, "HttpApi answers every request");
  }
  node.io.poll();
  return std::move(*slot->response);
}

// The client's bytes as a socket delivers them: at most `max_read` per read, then EOF.
class ClientBytes {
 public:
  ClientBytes(std::span<const uint8_t> bytes, size_t max_read)
      : bytes_(bytes), max_read_(max_read) {}

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    ec = {};
    if (pos_ == bytes_.size()) {
      ec = asio::error::eof;
      return 0;
    }
    const size_t n = asio::buffer_copy(
        buffers, asio::buffer(bytes_.data() + pos_, std::min(max_read_, bytes_.size() - pos_)));
    pos_ += n;
    return n;
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t max_read_;
  size_t pos_ = 0;
};

// Reads requests the way a Session does, handing each to `serve(request, wants_continue)`,
// which says whether the connection stays open. Returns the error that ended the reading
// (none: a response closed the connection).
template <class Serve>
beast::error_code read_requests(ClientBytes& in, Serve serve) {
  const HttpLimits limits;
  const size_t max_body = lone_node().api->max_body_bytes();
  beast::flat_buffer buffer;
  while (true) {
    HttpRequestParser parser;
    limit_request_parser(parser, limits, max_body);
    beast::error_code ec;
    const size_t header_bytes = http::read_header(in, buffer, parser, ec);
    if (!ec) ec = check_header_size(header_bytes, limits);
    if (ec) return ec;
    const bool cont = wants_continue(parser);
    http::read(in, buffer, parser, ec);
    if (ec) return ec;
    BeastRequest request = parser.release();
    if (!serve(request, cont)) return {};
  }
}

std::string describe(const BeastRequest& r) {
  return std::string(r.method_string()) + " " + std::string(r.target()) + " " +
         std::to_string(r.version()) + (r.keep_alive() ? " keep-alive\n" : " close\n") + r.body();
}

const bool g_trace = std::getenv("CKV_FUZZ_TRACE") != nullptr;

// Parses back a response as the server writes it: `status` and (unless `head`) `body`
// are what was meant.
void check_response(const std::string& wire, unsigned status, const std::string& body, bool head) {
  http::response_parser<http::string_body> parser;
  parser.skip(head);
  parser.eager(true);
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done() && !ec) {
    const size_t n = parser.put(asio::buffer(wire.data() + used, wire.size() - used), ec);
    used += n;
    if (ec == http::error::need_more && n > 0) ec = {};
  }
  if (g_trace) std::fprintf(stderr, "-> %s", wire.substr(0, wire.find('\n') + 1).c_str());
  require(!ec && parser.is_done(), "a response parses as HTTP");
  require(used == wire.size(), "a response is followed by nothing");
  const auto& back = parser.get();
  require(back.result_int() >= 100 && back.result_int() <= 599, "a status in 100..599");
  require(back.result_int() == status, "the status sent is the status meant");
  if (!head) require(back.body() == body, "the body sent is the body meant");
  if (head) require(back.body().empty(), "a HEAD response has no body");
}

// `response` serialized as the server sends it, then parsed back.
void check_response(HttpResponse response, unsigned version, bool head, bool keep_alive) {
  const unsigned status = response.status;
  const std::string body = response.body;
  WireResponse wire = serialize_response(std::move(response), version, head, keep_alive);
  check_response(wire.head + wire.body, status, body, head);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  LoneNode& node = lone_node();
  const HttpLimits limits;

  // First only parsed, arriving in pieces of 1..64 bytes.
  std::vector<std::string> pieces_requests;
  ClientBytes pieces(bytes, size == 0 ? 1 : 1 + data[size - 1] % 64);
  const beast::error_code pieces_end = read_requests(pieces, [&](BeastRequest& r, bool) {
    pieces_requests.push_back(describe(r));
    return r.keep_alive();
  });

  // Then answered, arriving at once.
  std::vector<std::string> requests;
  ClientBytes whole(bytes, SIZE_MAX);
  const beast::error_code end = read_requests(whole, [&](BeastRequest& r, bool cont) {
    requests.push_back(describe(r));
    if (g_trace) std::fprintf(stderr, "%s\n", requests.back().c_str());
    if (cont) {
      check_response(std::string(kContinueResponse), 100, "", false);
    }
    const unsigned version = r.version();
    const bool keep_alive = r.keep_alive();
    HttpRequest request = to_api_request(r);
    const bool head = request.method == HttpMethod::kHead;
    HttpResponse response = answer(std::move(request));
    require(response.status < 500, "a node alone answers no 5xx");
    check_response(std::move(response), version, head, keep_alive);
    return keep_alive;
  });
  if (g_trace) std::fprintf(stderr, "reading ended: %s\n", end.message().c_str());
  if (end) {
    std::optional<HttpResponse> refused = rejection(end, limits, node.api->max_body_bytes());
    if (refused) {
      require(refused->status >= 400 && refused->status <= 499, "a refused request is a 4xx");
      check_response(std::move(*refused), 11, false, false);
    }
  }

  // Beast checks a header's fields as far as they have arrived, but once it has had to wait
  // it waits for the header's end: an error may be found early at once and late (or, when
  // the bytes end first, never: a partial message) in pieces. Both are errors, though.
  const bool ends_alike =
      end == pieces_end ||
      (end && pieces_end &&
       (end == http::error::partial_message || pieces_end == http::error::partial_message ||
        (rejection(end, limits, 1) && rejection(pieces_end, limits, 1))));
  if (requests != pieces_requests || !ends_alike) {
    std::fprintf(stderr, "at once: %zu requests, then '%s'; in pieces: %zu, then '%s'\n",
                 requests.size(), end.message().c_str(), pieces_requests.size(),
                 pieces_end.message().c_str());
    require(false, "the bytes parse alike whole and in pieces");
  }
  return 0;
}
