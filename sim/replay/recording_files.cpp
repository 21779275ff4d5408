#include "sim/replay/recording_files.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "kernel/record/record_format.h"

namespace ckv::sim {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'C', 'K', 'V', 'R', 'E', 'C', '1', '\n'};

uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= uint64_t{p[i]} << (8 * i);
  return v;
}

uint64_t segment_number(const fs::path& p) {
  const std::string name = p.stem().string();  // segment-000001
  const auto dash = name.rfind('-');
  return dash == std::string::npos ? 0 : std::strtoull(name.c_str() + dash + 1, nullptr, 10);
}

}  // namespace

Result<LoadedRecording> load_recording(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return Error{ErrorCode::kNotFound, path +
                                           ": not a directory (a --record directory, or a "
                                           "run-... directory in one)"};
  }
  fs::path run = path;
  std::vector<fs::path> runs;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("run-", 0) == 0) {
      runs.push_back(entry.path());
    }
  }
  if (!runs.empty()) run = *std::max_element(runs.begin(), runs.end());
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(run, ec)) {
    if (entry.path().extension() == ".ckvrec") files.push_back(entry.path());
  }
  if (files.empty()) return Error{ErrorCode::kNotFound, run.string() + ": holds no recording"};
  std::sort(files.begin(), files.end());
  LoadedRecording out;
  out.dir = run.string();
  out.segments = files.size();
  if (segment_number(files.front()) != 1) {
    return Error{ErrorCode::kNotFound,
                 run.string() +
                     ": the recording's first segment is gone, and with it the "
                     "node's start"};
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0 && segment_number(files[i]) != segment_number(files[i - 1]) + 1) {
      out.missing_middle = true;
      out.ends_early = "segments " + std::to_string(segment_number(files[i - 1]) + 1) + ".." +
                       std::to_string(segment_number(files[i]) - 1) +
                       " were dropped to keep the recording within --record-mb";
      return out;
    }
    std::ifstream in(files[i], std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
      return Error{ErrorCode::kUnsupportedVersion,
                   files[i].string() + ": not a cluster-kv recording segment (format 1)"};
    }
    size_t pos = sizeof kMagic;
    while (pos < data.size()) {
      if (data.size() - pos < 12) {
        out.ends_early = files[i].filename().string() + ": a torn block at its end (a crash)";
        return out;
      }
      const uint64_t len = get_le(&data[pos], 4);
      const uint64_t hash = get_le(&data[pos + 4], 8);
      if (data.size() - pos - 12 < len ||
          record::hash_bytes(std::span<const uint8_t>(&data[pos + 12], len)) != hash) {
        out.ends_early = files[i].filename().string() + ": a torn or damaged block at byte " +
                         std::to_string(pos);
        return out;
      }
      out.bytes.insert(out.bytes.end(), data.begin() + static_cast<ptrdiff_t>(pos + 12),
                       data.begin() + static_cast<ptrdiff_t>(pos + 12 + len));
      pos += 12 + len;
    }
  }
  return out;
}

}  // namespace ckv::sim
