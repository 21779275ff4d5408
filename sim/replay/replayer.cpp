#include "sim/replay/replayer.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <variant>

#include "kernel/core/assert.h"
#include "kernel/record/output_summary.h"
#include "kernel/wire/codec.h"

namespace ckv::sim {

namespace {

using record::Event;
using record::OutputSummary;
using record::Type;

std::string hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string seconds(Now now) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(micros(now.mono)) / 1e6);
  return buf;
}

std::string printable(std::string_view s, size_t max = 48) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// The records of a recording, read one at a time.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : reader_(bytes) {}
  bool at_end() const { return reader_.at_end(); }
  Result<Event> next() {
    auto raw = reader_.next_raw();
    if (!raw) return raw.error();
    ++records_;
    return record::Reader::decode(*raw);
  }
  std::optional<Type> peek() const {
    Cursor copy = *this;
    auto raw = copy.reader_.next_raw();
    if (!raw) return std::nullopt;
    return static_cast<Type>((*raw)[0]);
  }
  uint64_t records() const { return records_; }

 private:
  record::Reader reader_;
  uint64_t records_ = 0;
};

// The Store a replayed kernel runs on: it answers each call with the recording's next
// record, which must be the answer to that same call, and checks each write against the
// recorded write's hash. The first difference is kept (and every later call fails).
// It also keeps a mirror: every record the recording showed (read, scanned or written),
// as the recorded store held it. After go_live() the recording is over for this kernel and
// every call goes to the mirror: a fork (fork.h) drives the kernel on from there.
class ReplayStore final : public Store {
 public:
  explicit ReplayStore(Cursor& cursor) : cursor_(&cursor) {}
  const std::string& divergence() const { return divergence_; }
  // The running digest of the outputs (fold) and the store writes, in the order made.
  uint64_t digest() const { return digest_; }
  void fold(uint64_t hash) { digest_ = record::fold_digest(digest_, hash); }
  uint64_t writes_checked() const { return writes_checked_; }
  void keep_mirror(MemStore& mirror) { mirror_ = &mirror; }
  void go_live() { cursor_ = nullptr; }

  Result<bool> get(std::string_view key, Record& out) override {
    if (live()) return mirror_->get(key, out);
    auto e = expect(Type::kStoreGet, "a read of key '" + printable(key) + "'");
    if (!e) return e.error();
    if (e->key != key) return differ("read key '" + printable(e->key) + "'", key);
    if (e->error) return *e->error;
    if (mirror_) (void)(e->flag ? mirror_->put(key, e->record) : mirror_->erase(key));
    if (e->flag) out = std::move(e->record);
    return e->flag;
  }
  Status put(std::string_view key, const Record& record) override {
    const RecordWrite w{key, &record};
    return write(record::StoreWriteKind::kPut, std::span(&w, 1), MetaKey{}, 0);
  }
  Status erase(std::string_view key) override {
    const RecordWrite w{key, nullptr};
    return write(record::StoreWriteKind::kErase, std::span(&w, 1), MetaKey{}, 0);
  }
  Status write_batch(std::span<const RecordWrite> writes) override {
    return write(record::StoreWriteKind::kBatch, writes, MetaKey{}, 0);
  }
  Status for_each_from(
      std::string_view from,
      const std::function<bool(std::string_view key, const Record& record)>& visit) override {
    if (live()) return mirror_->for_each_from(from, visit);
    auto e = expect(Type::kStoreScanBegin, "a scan from '" + printable(from) + "'");
    if (!e) return e.error();
    if (e->key != from) return differ("scan from '" + printable(e->key) + "'", from);
    for (;;) {
      const std::optional<Type> next = cursor_->peek();
      if (next == Type::kStoreScanEnd) {
        auto end = cursor_->next();
        if (!end) return fail("the recording: " + end.error().detail);
        if (end->error) return *end->error;
        return Status{};
      }
      auto item = expect(Type::kStoreScanItem, "the next record of a scan");
      if (!item) return item.error();
      if (mirror_) (void)mirror_->put(item->key, item->record);
      if (!visit(item->key, item->record)) {
        auto end = expect(Type::kStoreScanEnd, "the end of a scan its visitor stopped");
        if (!end) return end.error();
        return end->error ? Status{*end->error} : Status{};
      }
    }
  }
  Result<uint64_t> get_meta(MetaKey key) override {
    if (live()) return mirror_->get_meta(key);
    auto e = expect(Type::kStoreMeta, "a read of meta " + std::to_string(int(key)));
    if (!e) return e.error();
    if (e->number != static_cast<uint64_t>(key)) {
      return differ("meta " + std::to_string(e->number), std::to_string(int(key)));
    }
    if (e->error) return *e->error;
    if (mirror_) (void)mirror_->put_meta(key, e->digest);
    return e->digest;
  }
  Status put_meta(MetaKey key, uint64_t value) override {
    return write(record::StoreWriteKind::kMeta, {}, key, value);
  }

 private:
  bool live() const { return cursor_ == nullptr; }
  Result<Event> expect(Type type, const std::string& what) {
    if (!divergence_.empty()) return Error{ErrorCode::kIoError, "replay diverged"};
    if (cursor_->at_end()) {
      return fail("the replayed kernel made " + what + " after the recording's end");
    }
    auto e = cursor_->next();
    if (!e) return fail("the recording: " + e.error().detail);
    if (e->type != type) {
      return fail("the replayed kernel made " + what +
                  "; the recorded one's next step was: " + describe(*e));
    }
    return e;
  }
  Error fail(std::string why) {
    if (divergence_.empty()) divergence_ = std::move(why);
    return Error{ErrorCode::kIoError, "replay diverged"};
  }
  Error differ(const std::string& recorded, std::string_view replayed) {
    return fail("the store call differs: the recorded kernel made a " + recorded +
                ", the replayed one '" + printable(replayed) + "'");
  }
  Status write(record::StoreWriteKind kind, std::span<const RecordWrite> writes, MetaKey meta_key,
               uint64_t meta) {
    if (live()) {
      return kind == record::StoreWriteKind::kMeta ? mirror_->put_meta(meta_key, meta)
                                                   : mirror_->write_batch(writes);
    }
    auto e = expect(Type::kStoreWrite, "a store write");
    if (!e) return e.error();
    const uint64_t h = record::write_hash(kind, writes, meta_key, meta);
    if (!e->summarized || e->write_kind != kind || e->digest != h) {
      std::string what =
          kind == record::StoreWriteKind::kMeta
              ? "meta " + std::to_string(int(meta_key)) + " = " + std::to_string(meta)
              : std::to_string(writes.size()) + " record(s), the first key '" +
                    (writes.empty() ? "" : printable(writes[0].key)) + "'";
      return fail("a store write differs: the replayed kernel wrote " + what + " (hash " + hex(h) +
                  "), the recorded one's hash was " + hex(e->digest));
    }
    ++writes_checked_;
    digest_ = record::fold_digest(digest_, h);
    if (e->error) return *e->error;
    if (mirror_) {
      (void)(kind == record::StoreWriteKind::kMeta ? mirror_->put_meta(meta_key, meta)
                                                   : mirror_->write_batch(writes));
    }
    return Status{};
  }

  Cursor* cursor_;  // null once live
  MemStore* mirror_ = nullptr;
  uint64_t digest_ = 0;
  uint64_t writes_checked_ = 0;
  std::string divergence_;
};

std::string describe_effects(const Effects& effects) {
  std::string out;
  for (const MemberChange& c : effects.changes) {
    out += "    member " + c.name + " (" + c.addr.to_string() + ") " +
           (c.is_new ? "new" : wire::to_string(c.from_state)) + " -> " +
           wire::to_string(c.to_state) + " incarnation " + std::to_string(c.to_incarnation) + "\n";
  }
  for (const Send& s : effects.sends) {
    out += "    send to " + s.to.to_string() +
           (s.channel == Channel::kStream ? " (stream, " : " (datagram, ") +
           std::to_string(s.bytes.size()) + " bytes): " + describe_packet(s.bytes) + "\n";
  }
  for (const Reply& r : effects.replies) {
    out += "    reply to request " + std::to_string(r.request) + ": status " +
           std::to_string(int(r.status)) + ", version " + std::to_string(r.version.wall_us) + "." +
           std::to_string(r.version.logical) + ", value '" + printable(r.value) + "'" +
           (r.error.empty() ? "" : ", error '" + r.error + "'") + "\n";
  }
  for (const ChangeEvent& e : effects.events) {
    out += "    change event " + std::to_string(int(e.kind)) + " of '" + printable(e.key) + "'\n";
  }
  return out;
}

std::string summary_line(const OutputSummary& s) {
  return std::string(record::to_string(s.kind)) + " " + s.label + ", " + std::to_string(s.size) +
         " bytes, hash " + hex(s.hash);
}

// The replayed node's outputs on its timeline lane.
void draw(Timeline& tl, uint32_t lane, Now now, const Effects& effects) {
  const int64_t at = now.wall.time_since_epoch().count();
  for (const MemberChange& c : effects.changes)
    tl.member(at, lane, c.name, static_cast<Timeline::State>(static_cast<uint8_t>(c.to_state)));
  for (const Reply& r : effects.replies) {
    static constexpr Timeline::Outcome kOutcome[] = {
        Timeline::Outcome::kOk, Timeline::Outcome::kNotFound, Timeline::Outcome::kTimeout,
        Timeline::Outcome::kError, Timeline::Outcome::kPreconditionFailed};
    tl.op(at, lane, kOutcome[static_cast<size_t>(r.status)],
          "request " + std::to_string(r.request) + ": " + to_string(r.status));
  }
  for (const Send& s : effects.sends) {
    bool invalidation = false;
    (void)wire::for_each_frame(s.bytes, [&](uint8_t type, size_t) {
      invalidation = invalidation || type == static_cast<uint8_t>(wire::MessageType::kInvalidate);
    });
    if (invalidation) tl.traffic(at, lane, "invalidation to " + s.to.to_string());
  }
}

}  // namespace

std::string describe_packet(std::span<const uint8_t> packet) {
  wire::DecodeLimits limits;
  limits.max_packet_bytes = packet.size();
  limits.max_frames = 1 << 16;
  std::vector<wire::Message> messages;
  Status s = wire::decode_packet(packet, limits, messages);
  if (!s.ok()) return "(does not decode: " + s.error().detail + ")";
  std::string out;
  for (const wire::Message& m : messages) {
    if (!out.empty()) out += "; ";
    out += wire::describe(m);
  }
  return out;
}

std::string describe(const Event& e) {
  std::string out = record::to_string(e.type);
  switch (e.type) {
    case Type::kStart:
      return out + " of " + e.start.name + " at " + e.start.address.to_string() + ", seed " +
             std::to_string(e.start.seed) + ", build " + e.start.build;
    case Type::kJoin:
      return out + " " + std::to_string(e.seeds.size()) + " seed(s)";
    case Type::kSetTags:
      return out + " (" + std::to_string(e.tags.size()) + " tags)";
    case Type::kForceLeave:
      return out + " " + e.key;
    case Type::kMessage:
      return "message from " + e.from.to_string() +
             (e.channel == Channel::kStream ? " (stream, " : " (datagram, ") +
             std::to_string(e.bytes.size()) + " bytes): " + describe_packet(e.bytes);
    case Type::kGet:
    case Type::kErase:
      return out + " '" + printable(e.key) + "' (request " + std::to_string(e.request) + ")";
    case Type::kPut:
    case Type::kWriteIf:
      return out + " '" + printable(e.key) + "' = '" + printable(e.value) + "' (request " +
             std::to_string(e.request) + ")";
    case Type::kList:
      return out + " prefix '" + printable(e.key) + "' after '" + printable(e.after) +
             "' (request " + std::to_string(e.request) + ")";
    case Type::kWatch:
    case Type::kUnwatch:
      return out + " '" + printable(e.key) + "'";
    case Type::kLocalHits:
      return out + " (" + std::to_string(e.keys.size()) + " keys)";
    case Type::kStoreGet:
    case Type::kStoreScanBegin:
    case Type::kStoreScanItem:
      return out + " '" + printable(e.key) + "'";
    case Type::kReleased:
      return out + " " + std::to_string(e.outputs.size()) + " output(s)";
    case Type::kGap:
      return out + " of " + std::to_string(e.number) + " bytes";
    default:
      return out;
  }
}

namespace {

[[noreturn]] void throw_assertion(const AssertionFailure& failure) {
  throw failure;
}

Result<ReplayResult> replay_records(const LoadedRecording& recording, const ReplayOptions& options,
                                    ReplayResult& result, ReplayedKernel* keep);

}  // namespace

Result<ReplayResult> replay(const LoadedRecording& recording, const ReplayOptions& options,
                            ReplayedKernel* keep) {
  // The replayed kernel runs with its invariant checks on (the simulator's build of it),
  // also for a recording of a node built without them: a broken invariant is reported as
  // where the replay stops, not a crash.
  static const bool assertions_throw = (set_assert_handler(&throw_assertion), true);
  (void)assertions_throw;
  ReplayResult result;
  try {
    return replay_records(recording, options, result, keep);
  } catch (const AssertionFailure& f) {
    result.diverged = true;
    result.report = "the replayed kernel of " + result.name + " (" + recording.dir +
                    ") broke an invariant after input " + std::to_string(result.inputs) + ": " +
                    f.why + " (CKV_ASSERT(" + f.condition + ") at " + f.file + ":" +
                    std::to_string(f.line) + ")\n";
    return result;
  }
}

namespace {

Result<ReplayResult> replay_records(const LoadedRecording& recording, const ReplayOptions& options,
                                    ReplayResult& result, ReplayedKernel* keep) {
  result.dir = recording.dir;
  Cursor cursor(recording.bytes);
  auto start = cursor.next();
  if (!start) return Error{start.error().code, recording.dir + ": " + start.error().detail};
  if (start->type != Type::kStart) {
    return Error{ErrorCode::kMalformed, recording.dir +
                                            ": the recording does not begin with "
                                            "the node's start"};
  }
  const record::StartInfo& info = start->start;
  if (info.format != record::kFormatVersion) {
    return Error{ErrorCode::kUnsupportedVersion,
                 recording.dir + ": recording format " + std::to_string(info.format) +
                     "; this build reads format " + std::to_string(record::kFormatVersion)};
  }
  if (info.build != options.build && !options.any_build) {
    return Error{ErrorCode::kUnsupportedVersion,
                 recording.dir + ": recorded by build " + info.build + ", and this is build " +
                     options.build +
                     ": a replay is exact only on the build that recorded (use that build's "
                     "cluster-kv-sim, or --replay-any-build to see where this one differs)"};
  }
  result.name = info.name;
  result.address = info.address;
  result.build = info.build;
  result.values = info.values;
  result.first = result.last = info.start;

  // (On the heap: a kept kernel goes on writing through them.)
  auto replay_store = std::make_unique<ReplayStore>(cursor);
  ReplayStore& store = *replay_store;
  std::unique_ptr<MemStore> mirror;
  if (keep) {
    mirror = std::make_unique<MemStore>(/*durable_writes=*/true);
    store.keep_mirror(*mirror);
  }
  auto host_box = std::make_unique<NodeHost>(store, info.config.membership, nullptr);
  NodeHost& host = *host_box;
  uint64_t max_request = 0;
  std::map<std::string, uint32_t> watches;  // prefix -> watchers
  std::optional<Error> refuses;
  if (cursor.peek() == Type::kStoreRefuses) {
    auto e = cursor.next();
    if (e) refuses = e->error;
  }
  const auto& trace = options.trace;
  const std::string& name = info.name;
  if (trace) trace("[" + seconds(info.start) + "] " + name + " " + describe(*start));
  Status created = host.create(info, refuses);

  Effects effects;
  std::vector<OutputSummary> replayed;
  std::optional<Event> last_input;
  std::string input_text = "the node's start";
  auto report = [&](const std::string& what) {
    result.diverged = true;
    result.writes_checked = store.writes_checked();
    result.report = "replay of " + name + " (" + recording.dir + ") diverged at input " +
                    std::to_string(result.inputs) + " (record " + std::to_string(cursor.records()) +
                    "), " + input_text + ":\n  " + what + "\n";
    return result;
  };
  if (!store.divergence().empty()) return report(store.divergence());
  if (!created.ok()) return report("the node was not created: " + created.error().detail);

  auto check_release = [&]() -> bool {
    auto e = cursor.next();
    if (!e || e->type != Type::kReleased || !e->summarized) {
      report("the recording has no summary of what the gate released");
      return false;
    }
    replayed.clear();
    record::summarize(effects, replayed);
    result.outputs_checked += replayed.size();
    if (replayed != e->outputs) {
      std::string diff = "what the gate released differs:\n  recorded:\n";
      for (size_t i = 0; i < e->outputs.size(); ++i) {
        const bool same = i < replayed.size() && replayed[i] == e->outputs[i];
        diff += std::string(same ? "     " : "   * ") + summary_line(e->outputs[i]) + "\n";
      }
      diff += "  replayed:\n";
      for (size_t i = 0; i < replayed.size(); ++i) {
        const bool same = i < e->outputs.size() && replayed[i] == e->outputs[i];
        diff += std::string(same ? "     " : "   * ") + summary_line(replayed[i]) + "\n";
      }
      diff += "  the replay's outputs, decoded:\n" + describe_effects(effects);
      report(diff);
      return false;
    }
    for (const OutputSummary& s : replayed)
      store.fold(s.hash);
    for (const Send& s : effects.sends) {
      result.sent.push_back(
          Link{s.to, s.channel, record::hash_bytes(std::span(s.bytes)), result.last.wall});
    }
    if (options.timeline) draw(*options.timeline, options.timeline_lane, result.last, effects);
    if (trace && !effects.empty()) {
      std::string lines = describe_effects(effects);
      if (!lines.empty() && lines.back() == '\n') lines.pop_back();
      trace(lines);
    }
    effects.clear();
    return true;
  };

  while (!cursor.at_end()) {
    auto next = cursor.next();
    if (!next) {
      result.ended_early = "the recording: " + next.error().detail;
      break;
    }
    Event& e = *next;
    // What no driver gives a kernel is a damaged or forged recording, not an input.
    const bool request_input = e.type == Type::kGet || e.type == Type::kPut ||
                               e.type == Type::kErase || e.type == Type::kWriteIf ||
                               e.type == Type::kList;
    if ((request_input && e.request >= kInternalRequest) ||
        (e.type == Type::kMessage && e.channel != Channel::kDatagram &&
         e.channel != Channel::kStream)) {
      return Error{ErrorCode::kMalformed,
                   recording.dir + ": record " + std::to_string(cursor.records()) +
                       " is no input a node can be given (" + describe(e) + ")"};
    }
    if (record::is_input(e.type)) {
      const bool timed = e.type != Type::kWatch && e.type != Type::kUnwatch &&
                         e.type != Type::kLocalHits && e.type != Type::kStoreRefuses;
      if (timed && options.stop_at && e.now.wall >= *options.stop_at) {
        result.stopped_at = true;
        break;
      }
      if (request_input) max_request = std::max(max_request, e.request);
      if (e.type == Type::kWatch) ++watches[e.key];
      if (e.type == Type::kUnwatch && watches[e.key] > 0) --watches[e.key];
      ++result.inputs;
      if (timed) result.last = e.now;
      input_text = "[" + seconds(result.last) + "] " + describe(e);
      if (trace) trace("[" + seconds(result.last) + "] " + name + " <- " + describe(e));
    }
    switch (e.type) {
      case Type::kJoin:
        host.join(e.now, e.seeds);
        break;
      case Type::kLeave:
        host.leave(e.now);
        break;
      case Type::kSetTags:
        (void)host.set_tags(e.now, std::move(e.tags));
        break;
      case Type::kForceLeave:
        (void)host.force_leave(e.now, e.key);
        break;
      case Type::kMessage:
        result.received.push_back(
            Link{e.from, e.channel, record::hash_bytes(std::span(e.bytes)), e.now.wall});
        host.on_message(e.now, e.from, e.channel, e.bytes);
        break;
      case Type::kTimer:
        host.on_timer(e.now);
        break;
      case Type::kCommitFailed:
        host.on_commit_failed(e.now);
        break;
      case Type::kGet:
        host.get(e.now, e.request, e.key, e.duration);
        break;
      case Type::kPut:
        host.put(e.now, e.request, e.key, std::move(e.value), e.duration, std::move(e.content));
        break;
      case Type::kErase:
        host.erase(e.now, e.request, e.key);
        break;
      case Type::kWatch:
        host.watch(e.key);
        break;
      case Type::kUnwatch:
        host.unwatch(e.key);
        break;
      case Type::kWriteIf:
        host.write_if(e.now, e.request, e.key, e.flag, std::move(e.value), e.duration,
                      std::move(e.condition), std::move(e.content));
        break;
      case Type::kList:
        host.list(e.now, e.request, e.key, e.after, e.number, e.duration, e.flag);
        break;
      case Type::kLocalHits:
        host.note_local_hits(e.keys);
        break;
      case Type::kTake:
        host.take(effects);
        if (!store.divergence().empty()) return report(store.divergence());
        if (!check_release()) return result;
        break;
      case Type::kCommit:
        (void)host.commit(effects);
        if (!store.divergence().empty()) return report(store.divergence());
        if (!check_release()) return result;
        break;
      case Type::kDigest:
        if (e.digest != store.digest()) {
          return report("the running digest after " + std::to_string(e.number) +
                        " inputs differs: recorded " + hex(e.digest) + ", replayed " +
                        hex(store.digest()));
        }
        ++result.digests_checked;
        break;
      case Type::kGap:
        result.ended_early = "the recorder lost " + std::to_string(e.number) +
                             " bytes of records here (it fell behind the node)";
        result.records = cursor.records();
        result.writes_checked = store.writes_checked();
        result.fell_behind = true;
        return result;
      case Type::kStart:
      case Type::kStoreRefuses:
      case Type::kReleased:
        return report("a " + std::string(record::to_string(e.type)) +
                      " record where the replay expected an input");
      default:
        return report("the recorded kernel made a store call here (" + describe(e) +
                      "); the replayed kernel did not");
    }
    if (!store.divergence().empty()) return report(store.divergence());
    result.writes_checked = store.writes_checked();  // (as it goes: for an assertion's report)
  }
  result.records = cursor.records();
  result.writes_checked = store.writes_checked();
  if (result.ended_early.empty()) result.ended_early = recording.ends_early;
  result.lost_middle = recording.missing_middle;
  if (keep && result.stopped_at) {  // (a ring's loss after the first segment comes later)
    store.go_live();
    // What the gate still held at the moment (staged writes, and the output waiting for
    // them: replies to the recording's clients, their watch events, messages) is written
    // now and its output dropped: it was in flight at the moment, and is lost with it.
    Effects in_flight;
    (void)host.commit(in_flight);
    keep->start = info;
    keep->at = result.last;
    keep->max_request = max_request;
    keep->watches.clear();
    for (const auto& [prefix, count] : watches)
      keep->watches.insert(keep->watches.end(), count, prefix);
    host.release(keep->gate, keep->node);
    keep->disk = std::move(mirror);
    keep->store = std::move(replay_store);  // (after the host: it no longer refers to it)
  }
  return result;
}

}  // namespace

}  // namespace ckv::sim
