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
  WatchStream(NodeDriver& driver, std::shared_ptr<NodeDriver::WatchTicket> ticket)
      : driver_(driver), alive_(driver.lifetime()), ticket_(std::move(ticket)) {}
  ~WatchStream() override {
    if (alive_.lock()) driver_.watch_end(ticket_);  // (not once the driver is gone)
  }

  void next(Deliver deliver) override {
    if (!alive_.lock()) return deliver({}, true);
    driver_.watch_pull(ticket_, std::move(deliver));
  }
  bool closes_connection() const override { return true; }

 private:
  NodeDriver& driver_;
  std::weak_ptr<const void> alive_;
  std::shared_ptr<NodeDriver::WatchTicket> ticket_;
};

}  // namespace

void start_watch_stream(NodeDriver& driver, std::string prefix, std::string last_event_id,
                        std::function<void(std::shared_ptr<BodyStream>)> started) {
  auto ticket = std::make_shared<NodeDriver::WatchTicket>(
      NodeDriver::WatchTicket{std::move(prefix), std::move(last_event_id), nullptr});
  auto stream = std::make_shared<WatchStream>(driver, ticket);
  driver.watch_start(std::move(ticket),
                     [stream = std::move(stream), started = std::move(started)]() mutable {
                       started(std::move(stream));
                     });
}

}  // namespace ckv
