#include "runtime/http/listing_export.h"

#include <algorithm>
#include <utility>

#include "runtime/node_driver.h"

namespace ckv {

namespace {

// Keys asked for per page (each member's answer also stops at wire::kListValueBytes).
constexpr size_t kExportPage = 1000;

class ListingExport : public BodyStream, public std::enable_shared_from_this<ListingExport> {
 public:
  ListingExport(NodeDriver& driver, ListParams params)
      : driver_(driver), params_(std::move(params)), left_(params_.limit) {}

  void next(Deliver deliver) override {
    const size_t page = params_.limited ? std::min(kExportPage, left_) : kExportPage;
    driver_.list(params_.prefix, params_.after, page, params_.timeout, /*values=*/true,
                 [self = shared_from_this(), deliver = std::move(deliver)](Reply reply) {
                   self->on_page(reply, deliver);
                 });
  }

 private:
  void on_page(const Reply& reply, const Deliver& deliver) {
    if (reply.status != ReplyStatus::kOk) {
      const std::string why = reply.error.empty() ? to_string(reply.status) : reply.error;
      deliver(export_end(params_.after, false, why), true);
      return;
    }
    std::string lines = export_lines(reply);
    current_ = current_ && reply.current;
    params_.after = reply.next;
    if (params_.limited) left_ -= std::min(left_, reply.keys.size());
    const bool last = reply.next.empty() || (params_.limited && left_ == 0);
    if (last) lines += export_end(reply.next, current_);
    deliver(std::move(lines), last);
  }

  NodeDriver& driver_;
  ListParams params_;  // `after` moves on page by page
  size_t left_;        // keys still to send when `limited`
  bool current_ = true;
};

}  // namespace

std::shared_ptr<BodyStream> listing_export(NodeDriver& driver, ListParams params) {
  return std::make_shared<ListingExport>(driver, std::move(params));
}

}  // namespace ckv
