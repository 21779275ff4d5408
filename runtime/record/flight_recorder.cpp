#include "runtime/record/flight_recorder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "runtime/log.h"

namespace ckv {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'C', 'K', 'V', 'R', 'E', 'C', '1', '\n'};

void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string segment_name(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "segment-%06llu.ckvrec", static_cast<unsigned long long>(seq));
  return buf;
}

// Whether another process is recording into `run` now (it holds the run's lock).
bool run_is_live(const fs::path& run) {
  const int fd = ::open((run / "lock").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;  // no lock file: a run from before locks, or a crashed one
  const bool live = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return live;
}

}  // namespace

FlightRecorder::FlightRecorder(RecorderOptions options)
    : options_(std::move(options)),
      segment_bytes_(
          std::clamp<uint64_t>(options_.max_bytes / 8, uint64_t{1} << 20, uint64_t{64} << 20)),
      condenser_(options_.whole_values ? record::ValueMode::kWhole : record::ValueMode::kMasked,
                 std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {}

Result<std::unique_ptr<FlightRecorder>> FlightRecorder::open(const RecorderOptions& options) {
  std::unique_ptr<FlightRecorder> r(new FlightRecorder(options));
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Error{ErrorCode::kIoError, "--record " + options.dir + ": " + ec.message()};
  // What earlier runs left counts against the bound, oldest first.
  std::vector<fs::path> runs;
  for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("run-", 0) == 0 &&
        !run_is_live(entry.path())) {
      runs.push_back(entry.path());
    }
  }
  if (ec) return Error{ErrorCode::kIoError, "--record " + options.dir + ": " + ec.message()};
  std::sort(runs.begin(), runs.end());
  for (const fs::path& run : runs) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(run, ec)) {
      if (entry.path().extension() == ".ckvrec") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const uint64_t size = fs::file_size(f, ec);
      r->segments_.push_back(Segment{f.string(), ec ? 0 : size, false});
      r->total_bytes_ += ec ? 0 : size;
    }
  }
  const auto wall = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  char name[64];
  std::snprintf(name, sizeof name, "run-%016lld-%d", static_cast<long long>(wall),
                static_cast<int>(::getpid()));
  r->run_dir_ = (fs::path(options.dir) / name).string();
  fs::create_directory(r->run_dir_, ec);
  if (ec) return Error{ErrorCode::kIoError, "--record " + r->run_dir_ + ": " + ec.message()};
  r->lock_fd_ =
      ::open((fs::path(r->run_dir_) / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (r->lock_fd_ < 0 || ::flock(r->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Error{ErrorCode::kIoError,
                 "--record " + r->run_dir_ + ": cannot lock: " + std::strerror(errno)};
  }
  r->writer_.set_spill(kHandOffBytes, [raw = r.get()] { raw->hand_off(true); });
  if (!r->open_segment()) {
    return Error{ErrorCode::kIoError, "--record " + r->run_dir_ + ": " + std::strerror(errno)};
  }
  r->thread_ = std::thread([raw = r.get()] { raw->run(); });
  return r;
}

FlightRecorder::~FlightRecorder() {
  hand_off(true);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

void FlightRecorder::hand_off(bool now) {
  if (writer_.size() == 0) return;
  const auto at = std::chrono::steady_clock::now();
  if (!now && writer_.size() < kHandOffBytes && at - last_hand_off_ < kHandOffEvery) return;
  last_hand_off_ = at;
  std::vector<uint8_t> chunk = writer_.take();
  writer_.buffer().reserve(kHandOffBytes + kHandOffBytes / 4);
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    // Dropped only behind another batch, which then says so: never the first (the start).
    if (!queue_.empty() && queued_bytes_ + chunk.size() > kMaxQueuedBytes) {
      queue_.back().lost_after += chunk.size();
      return;
    }
    wake = queue_.empty();
    queued_bytes_ += chunk.size();
    queue_.push_back(Chunk{std::move(chunk), 0});
  }
  if (wake) wake_.notify_one();
}

void FlightRecorder::run() {
  Chunk in;
  record::Writer out;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything written
      in = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= in.records.size();
    }
    if (failed_) continue;
    if (Status s = condenser_.condense(in.records, out); !s.ok()) {
      log_error("flight recorder: a record does not decode (" + s.error().detail +
                "); the recording has a gap here");
    }
    if (in.lost_after > 0) {
      out.gap(in.lost_after);
      log_warn("flight recorder: fell " + std::to_string(kMaxQueuedBytes >> 20) +
               " MiB behind the node and dropped " + std::to_string(in.lost_after) +
               " bytes of records; a replay stops there");
    }
    std::vector<uint8_t> block = out.take();
    write_block(block);
  }
}

bool FlightRecorder::open_segment() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
  ++segment_seq_;
  const std::string path = (fs::path(run_dir_) / segment_name(segment_seq_)).string();
  make_room(segment_bytes_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) return false;
  if (!write_all(fd_, reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic)) return false;
  segments_.push_back(Segment{path, sizeof kMagic, segment_seq_ == 1});
  total_bytes_ += sizeof kMagic;
  segment_size_ = sizeof kMagic;
  return true;
}

// Deletes the oldest segments until `bytes` more fit; the running process's first segment
// and the one being written stay.
void FlightRecorder::make_room(uint64_t bytes) {
  while (total_bytes_ + bytes > options_.max_bytes) {
    auto victim = std::find_if(segments_.begin(), segments_.end(),
                               [&](const Segment& s) { return !s.pinned; });
    if (victim == segments_.end() || std::next(victim) == segments_.end()) return;
    std::error_code ec;
    fs::remove(victim->path, ec);
    total_bytes_ -= victim->bytes;
    const fs::path run = fs::path(victim->path).parent_path();
    segments_.erase(victim);
    const bool emptied = std::none_of(segments_.begin(), segments_.end(), [&](const Segment& s) {
      return fs::path(s.path).parent_path() == run;
    });
    if (emptied && run.string() != run_dir_) fs::remove_all(run, ec);  // its lock file too
  }
}

void FlightRecorder::write_block(const std::vector<uint8_t>& records) {
  if (records.empty()) return;
  if (segment_size_ + records.size() + 12 > segment_bytes_ && segment_size_ > sizeof kMagic) {
    if (!open_segment()) {
      failed_ = true;
      log_error("flight recorder: cannot open a segment in " + run_dir_ + ": " +
                std::strerror(errno) + "; recording stopped");
      return;
    }
  }
  std::vector<uint8_t> header;
  put_le(header, records.size(), 4);
  put_le(header, record::hash_bytes(std::span<const uint8_t>(records)), 8);
  make_room(header.size() + records.size());
  if (!write_all(fd_, header.data(), header.size()) ||
      !write_all(fd_, records.data(), records.size())) {
    failed_ = true;
    log_error("flight recorder: writing " + run_dir_ + " failed: " + std::strerror(errno) +
              "; recording stopped");
    return;
  }
  const uint64_t n = header.size() + records.size();
  segment_size_ += n;
  segments_.back().bytes += n;
  total_bytes_ += n;
}

}  // namespace ckv
