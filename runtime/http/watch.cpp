#include "runtime/http/watch.h"

#include <utility>

#include "runtime/http/listing.h"
#include "runtime/node_driver.h"

namespace ckv {

std::string sse_event(const ChangeEvent& e, std::string_view id) {
  std::string out;
  out.reserve(96 + e.key.size());
  out += "id: ";
  out += id;
  out += "\nevent: ";
  out += to_string(e.kind);
  out += "\ndata: ";
  if (e.kind == ChangeEvent::Kind::kReset) {
    out += "{}";
  } else {
    out += '{';
    append_json_key(out, e.key);
    out += ",\"etag\":\"\\\"";
    append_version(out, e.version);
    out += "\\\"\"}";
  }
  out += "\n\n";
  return out;
}

namespace {

class WatchStream : public BodyStream {
 public:
  WatchStream(NodeDriver& driver, std::string prefix, std::string last_event_id)
      : driver_(driver),
        ticket_(std::make_shared<NodeDriver::WatchTicket>(
            NodeDriver::WatchTicket{std::move(prefix), std::move(last_event_id), nullptr})) {}
  ~WatchStream() override { driver_.watch_end(ticket_); }

  void next(Deliver deliver) override { driver_.watch_pull(ticket_, std::move(deliver)); }

 private:
  NodeDriver& driver_;
  std::shared_ptr<NodeDriver::WatchTicket> ticket_;
};

}  // namespace

std::shared_ptr<BodyStream> watch_stream(NodeDriver& driver, std::string prefix,
                                         std::string last_event_id) {
  return std::make_shared<WatchStream>(driver, std::move(prefix), std::move(last_event_id));
}

}  // namespace ckv
