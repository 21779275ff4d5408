// FlightRecorder: writes what a node's kernel is given (kernel/record/record_format.h) to
// disk, so the run can be replayed bit for bit by `cluster-kv-sim --replay`.
//
// The node's strand only appends records to a buffer (copies of its inputs and outputs)
// and hands the buffer over in batches (64 KiB, or every 50 ms while inputs come); a
// thread of the recorder's own condenses it
// (kernel/record/condenser.h: outputs summarized, values masked unless told to keep
// them) and writes. If the thread falls
// more than kMaxQueuedBytes behind, buffers are dropped and the recording says so (a gap
// record): the node is never slowed to wait for the disk.
//
// On disk: DIR/run-<start time>-<pid>/ per process, holding segments
// `segment-NNNNNN.ckvrec`, each an 8-byte magic "CKVREC1\n", then blocks: a 4-byte length
// and an 8-byte hash (both little-endian) of the records that follow. A crash leaves at
// worst a torn last block, which readers ignore. All runs under DIR together stay within
// `max_bytes`: when a new segment would pass it, the oldest segments go, other runs' first;
// the first segment of the running process is kept (it holds the start), so a replay can
// tell it lost the middle and refuse rather than diverge. Each run holds a lock (flock on
// its `lock` file) while it records: a second process recording into the same DIR leaves
// a live run's segments alone.
//
// The thread never waits for the strand and the strand never waits for the disk: when
// more than kMaxQueuedBytes wait to be written, a batch is dropped (the queue is never
// refused its first batch, the one holding the start) and a gap record marks the place.
// A scan of the whole store (at start with --max-data-mb, after a failed commit) is handed
// over every kHandOffBytes as it goes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/record/condenser.h"
#include "kernel/record/record_format.h"

namespace ckv {

struct RecorderOptions {
  std::string dir;
  uint64_t max_bytes = uint64_t{256} << 20;
  bool whole_values = false;  // --record-values: keep values (else masked: value_mask.h)
};

class FlightRecorder {
 public:
  static constexpr uint64_t kMaxQueuedBytes = uint64_t{64} << 20;
  // The strand hands records over in batches: one wake-up of the thread per batch, not
  // per input. So a crash loses at most this much of the recording's end.
  static constexpr size_t kHandOffBytes = 64 << 10;
  static constexpr std::chrono::milliseconds kHandOffEvery{50};

  // Creates DIR and the run's directory; errors name the path.
  static Result<std::unique_ptr<FlightRecorder>> open(const RecorderOptions& options);
  // Writes what is queued, then stops the thread.
  ~FlightRecorder();

  // Where the node's host appends records (strand only).
  record::Writer& writer() { return writer_; }
  record::ValueMode value_mode() const {
    return options_.whole_values ? record::ValueMode::kWhole : record::ValueMode::kMasked;
  }
  // Passes what the writer holds to the thread (strand only): once it holds kHandOffBytes,
  // or kHandOffEvery after the last hand-off, or `now`. Cheap otherwise (a clock read).
  void hand_off(bool now = false);
  const std::string& run_dir() const { return run_dir_; }

  FlightRecorder(const FlightRecorder&) = delete;
  FlightRecorder& operator=(const FlightRecorder&) = delete;

 private:
  explicit FlightRecorder(RecorderOptions options);
  void run();
  void write_block(const std::vector<uint8_t>& records);
  bool open_segment();
  void make_room(uint64_t bytes);

  RecorderOptions options_;
  std::string run_dir_;
  uint64_t segment_bytes_;
  record::Writer writer_;                                  // strand
  std::chrono::steady_clock::time_point last_hand_off_{};  // strand

  std::mutex mutex_;
  std::condition_variable wake_;
  struct Chunk {
    std::vector<uint8_t> records;
    uint64_t lost_after = 0;  // bytes dropped after this chunk (the queue was full)
  };
  std::deque<Chunk> queue_;    // guarded by mutex_
  uint64_t queued_bytes_ = 0;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_

  // The thread's own.
  record::Condenser condenser_;
  int fd_ = -1;
  int lock_fd_ = -1;  // the run's lock, held while recording
  uint64_t segment_seq_ = 0;
  uint64_t segment_size_ = 0;
  bool failed_ = false;  // a write failed: the recording stops (logged once)
  struct Segment {
    std::string path;
    uint64_t bytes;
    bool pinned;
  };
  std::deque<Segment> segments_;  // every segment under DIR, oldest first
  uint64_t total_bytes_ = 0;
  std::thread thread_;
};

}  // namespace ckv
