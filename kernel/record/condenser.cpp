#include "kernel/record/condenser.h"

#include "kernel/record/output_summary.h"

namespace ckv::record {

namespace {

bool carries_values(Type type) {
  switch (type) {
    case Type::kReleased:
    case Type::kStoreWrite:
    case Type::kPut:
    case Type::kWriteIf:
    case Type::kMessage:
    case Type::kStoreGet:
    case Type::kStoreScanItem:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status Condenser::condense(std::span<const uint8_t> in, Writer& out) {
  Reader reader(in);
  while (!reader.at_end()) {
    auto raw = reader.next_raw();
    if (!raw) {
      out.gap(in.size());
      return raw.error();
    }
    const auto type = static_cast<Type>((*raw)[0]);
    if (is_input(type)) {
      // Before the input, where a replay reads records one by one (not inside a store call
      // or a release): the digest of every output so far.
      if (inputs_ > 0 && inputs_ % kDigestEvery == 0) out.digest(inputs_, digest_);
      ++inputs_;
    }
    const bool condensed = type == Type::kReleased || type == Type::kStoreWrite;
    if (!condensed && !(masked_ && carries_values(type))) {
      out.raw(*raw);
      continue;
    }
    auto decoded = Reader::decode(*raw);
    if (!decoded) {
      out.gap(raw->size());
      return decoded.error();
    }
    Event& e = *decoded;
    if (masked_) mask_.mask(e);
    switch (type) {
      case Type::kReleased:
        summaries_.clear();
        summarize(e.released, summaries_);
        for (const OutputSummary& s : summaries_)
          digest_ = fold_digest(digest_, s.hash);
        out.released(summaries_);
        break;
      case Type::kStoreWrite: {
        const uint64_t h = write_hash(e);
        digest_ = fold_digest(digest_, h);
        out.store_write_hash(e.write_kind, h, e.error ? Status{*e.error} : Status{});
        break;
      }
      case Type::kPut:
        out.put(e.now, e.request, e.key, e.value, e.duration, e.content);
        break;
      case Type::kWriteIf:
        out.write_if(e.now, e.request, e.key, e.flag, e.value, e.duration, e.condition, e.content);
        break;
      case Type::kMessage:
        out.message(e.now, e.from, e.channel, e.bytes);
        break;
      case Type::kStoreGet: {
        Result<bool> found = e.error ? Result<bool>(*e.error) : Result<bool>(e.flag);
        out.store_get(e.key, found, e.record);
        break;
      }
      case Type::kStoreScanItem:
        out.scan_item(e.key, e.record);
        break;
      default:
        out.raw(*raw);
        break;
    }
  }
  return Status{};
}

}  // namespace ckv::record
