#include "sim/timeline/timeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ckv {

namespace {

constexpr int kLeft = 110;      // lane names
constexpr int kWidth = 1400;    // the time axis
constexpr int kTop = 30;        // the axis' labels
constexpr int kHeader = 18;     // a lane's name row (faults shaded over the whole lane)
constexpr int kOpsRow = 14;     // client operations
constexpr int kTrafficRow = 8;  // invalidation traffic
constexpr int kStateRow = 6;    // one per member the lane's node holds

const char* state_class(Timeline::State s) {
  switch (s) {
    case Timeline::State::kAlive:
      return "alive";
    case Timeline::State::kSuspect:
      return "suspect";
    case Timeline::State::kDead:
      return "dead";
    case Timeline::State::kLeft:
      return "left";
  }
  return "left";
}

const char* outcome_class(uint8_t o) {
  switch (static_cast<Timeline::Outcome>(o)) {
    case Timeline::Outcome::kOk:
      return "ok";
    case Timeline::Outcome::kNotFound:
      return "notfound";
    case Timeline::Outcome::kTimeout:
      return "timeout";
    case Timeline::Outcome::kError:
      return "error";
    case Timeline::Outcome::kPreconditionFailed:
      return "precondition";
  }
  return "error";
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 && c != '\n' ? '?' : c;
    }
  }
  return out;
}

std::string fmt(const char* f, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

std::string secs(int64_t us) {
  return fmt("%.3f s", static_cast<double>(us) / 1e6);
}

}  // namespace

Timeline::Timeline(std::string title, std::vector<std::string> lanes)
    : title_(std::move(title)), lanes_(std::move(lanes)), states_(lanes_.size()) {}

void Timeline::extend(int64_t at) {
  first_ = std::min(first_, at);
  last_ = std::max(last_, at);
}

void Timeline::member(int64_t at, uint32_t observer, const std::string& subject, State state) {
  if (observer >= lanes_.size()) return;
  extend(at);
  auto& row = states_[observer][subject];
  if (!row.empty() && row.back().state == state) return;
  row.push_back(Interval{at, state});
}

void Timeline::shade(int64_t from, int64_t to, uint32_t lane, const std::string& label) {
  if (lane >= lanes_.size()) return;
  extend(from);
  extend(to);
  shades_.push_back(Shade{from, to, lane, label});
}

void Timeline::begin_shade(int64_t from, uint32_t lane, const std::string& label) {
  if (lane >= lanes_.size()) return;
  extend(from);
  shades_.push_back(Shade{from, INT64_MAX, lane, label});
}

void Timeline::end_shade(int64_t to, uint32_t lane, const std::string& label_prefix) {
  for (Shade& s : shades_) {
    if (s.lane == lane && s.to == INT64_MAX && s.label.rfind(label_prefix, 0) == 0) {
      s.to = to;
      extend(to);
    }
  }
}

void Timeline::op(int64_t at, uint32_t lane, Outcome outcome, const std::string& label) {
  if (lane >= lanes_.size()) return;
  extend(at);
  // Failed operations are always drawn; successful ones thinned past kMaxOpMarks.
  if (outcome == Outcome::kOk) {
    size_t stride = 1;
    while (ok_seen_ >= stride * kMaxOpMarks)
      stride *= 2;
    if (ok_seen_++ % stride != 0) return;
  }
  ops_.push_back(Mark{at, lane, static_cast<uint8_t>(outcome), label});
}

void Timeline::traffic(int64_t at, uint32_t lane, const std::string& label) {
  if (lane >= lanes_.size()) return;
  extend(at);
  // Every mark while there is room; then every other one is dropped and only every
  // second, fourth, ... mark that follows is kept: a sample spread evenly over the run.
  size_t stride = 1;
  while (traffic_seen_ >= stride * kMaxTrafficMarks)
    stride *= 2;
  ++traffic_seen_;
  if ((traffic_seen_ - 1) % stride != 0) return;
  if (traffic_.size() >= kMaxTrafficMarks) {
    std::vector<Mark> kept;
    for (size_t i = 0; i < traffic_.size(); i += 2)
      kept.push_back(std::move(traffic_[i]));
    traffic_ = std::move(kept);
  }
  traffic_.push_back(Mark{at, lane, 0, label});
}

void Timeline::pin(int64_t at, const std::string& text, const std::string& repro) {
  extend(at);
  pins_.push_back(Pin{at, text, repro});
}

std::string Timeline::html() const {
  const int64_t first = first_ == INT64_MAX ? 0 : first_;
  const int64_t last = std::max(last_ == INT64_MIN ? 1 : last_, first + 1);
  const double span = static_cast<double>(last - first);
  auto x = [&](int64_t t) {
    return fmt("%.1f", kLeft + static_cast<double>(t - first) / span * kWidth);
  };
  auto w = [&](int64_t from, int64_t to) {
    return fmt("%.1f", std::max(0.5, static_cast<double>(to - from) / span * kWidth));
  };
  std::vector<int> lane_y(lanes_.size() + 1);
  int y = kTop;
  for (size_t i = 0; i < lanes_.size(); ++i) {
    lane_y[i] = y;
    y += kHeader + kOpsRow + kTrafficRow + static_cast<int>(states_[i].size()) * kStateRow + 10;
  }
  lane_y[lanes_.size()] = y;
  const int height = y + 10;

  std::string out;
  out.reserve(1 << 20);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title_) +
      "</title>\n<style>\n"
      "body{font:13px sans-serif;margin:16px;color:#222;background:#fff}\n"
      "h1{font-size:18px;margin:0 0 6px}\n.notes{color:#555;margin-bottom:8px}\n"
      ".legend span{display:inline-block;margin-right:14px}\n"
      ".legend "
      "i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}\n"
      "svg text{font:11px sans-serif}\n"
      ".alive{fill:#4caf50}.suspect{fill:#ffb300}.dead{fill:#e53935}.left{fill:#9e9e9e}\n"
      ".ok{fill:#2e7d32}.notfound{fill:#1e88e5}.timeout{fill:#fb8c00}.error{fill:#c62828}"
      ".precondition{fill:#8e24aa}\n"
      ".fault{fill:#7e57c2;fill-opacity:.18}.fault.side1{fill:#ef6c00;fill-opacity:.16}"
      ".fault.crash{fill:#000;fill-opacity:.22}.fault.pause{fill:#00838f;fill-opacity:.2}"
      ".fault.clog{fill:#795548;fill-opacity:.25}\n"
      ".legend i.alive{background:#4caf50}.legend i.suspect{background:#ffb300}"
      ".legend i.dead{background:#e53935}.legend i.left{background:#9e9e9e}"
      ".legend i.fault{background:#d9cdee}.legend i.side1{background:#fbdcc0}"
      ".legend i.pause{background:#c2e0e3}.legend i.crash{background:#c6c6c6}"
      ".legend i.clog{background:#dcd0cb}"
      ".legend i.ok{background:#2e7d32}.legend i.notfound{background:#1e88e5}"
      ".legend i.timeout{background:#fb8c00}.legend i.error{background:#c62828}"
      ".legend i.precondition{background:#8e24aa}.legend i.traffic{background:#607d8b;width:2px}\n"
      ".traffic{stroke:#607d8b;stroke-width:1}\n.pin line{stroke:#d50000;stroke-width:2}"
      ".pin text{fill:#d50000;font-weight:bold}\n"
      ".lane-name{font-weight:bold}.axis{stroke:#bbb}\n"
      "pre{background:#f5f5f5;padding:6px;white-space:pre-wrap}\n"
      "</style></head><body>\n<h1>" +
      escape(title_) + "</h1>\n";
  for (const std::string& n : notes_)
    out += "<div class=\"notes\">" + escape(n) + "</div>\n";
  out +=
      "<div class=\"legend\"><span><i class=\"alive\"></i>alive</span><span><i "
      "class=\"suspect\"></i>suspect</span><span><i class=\"dead\"></i>dead</span><span><i "
      "class=\"left\"></i>left</span><span><i class=\"fault\"></i>partition: one "
      "side</span><span><i "
      "class=\"fault side1\"></i>the other side</span><span><i "
      "class=\"fault pause\"></i>pause / slow</span><span><i class=\"fault "
      "crash\"></i>down</span><span><i class=\"fault clog\"></i>clogged sends</span><span><i "
      "class=\"ok\"></i>op ok</span><span><i "
      "class=\"notfound\"></i>not found</span><span><i "
      "class=\"timeout\"></i>timeout</span><span><i "
      "class=\"error\"></i>error</span><span><i class=\"precondition\"></i>precondition "
      "failed</span><span><i class=\"traffic\"></i>invalidations (sampled)</span></div>\n"
      "<div class=\"notes\">Each lane is a node: its name row holds its faults, then its "
      "client operations, a sample of the invalidations it received, and one thin bar per "
      "member with the state this node held it in (hover for details).</div>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         std::to_string(kLeft + kWidth + 20) + "\" height=\"" + std::to_string(height) + "\">\n";
  // The time axis: about ten labelled ticks at a round step.
  const double raw_step = span / 10;
  const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw_step, 1.0))));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (magnitude * m >= raw_step) {
      step = magnitude * m;
      break;
    }
  }
  out += "<g class=\"axis-ticks\">\n";
  const auto step_us = std::max<int64_t>(1, static_cast<int64_t>(step));
  const int64_t first_tick = (first / step_us + (first % step_us > 0 ? 1 : 0)) * step_us;
  for (int64_t tick = 0; tick <= 20; ++tick) {
    const int64_t at = first_tick + tick * step_us;
    if (at > last || at < first_tick) break;
    out += "<line class=\"axis\" x1=\"" + x(at) + "\" x2=\"" + x(at) + "\" y1=\"" +
           std::to_string(kTop - 4) + "\" y2=\"" + std::to_string(height - 10) + "\"/><text x=\"" +
           x(at) + "\" y=\"" + std::to_string(kTop - 8) + "\">" + secs(at) + "</text>\n";
  }
  out += "</g>\n";
  for (size_t i = 0; i < lanes_.size(); ++i) {
    const int top = lane_y[i];
    const int bottom = lane_y[i + 1] - 10;
    out += "<g class=\"lane\" data-node=\"" + escape(lanes_[i]) + "\">\n";
    out += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(top) + "\" width=\"" +
           std::to_string(kWidth) + "\" height=\"" + std::to_string(bottom - top) +
           "\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n";
    out += "<text class=\"lane-name\" x=\"4\" y=\"" + std::to_string(top + 13) + "\">" +
           escape(lanes_[i]) + "</text>\n";
    for (Shade s : shades_) {
      if (s.lane != i) continue;
      s.to = std::min(s.to, last);
      std::string kind = s.label.rfind("crash", 0) == 0 || s.label.rfind("down", 0) == 0 ? " crash"
                         : s.label.rfind("pause", 0) == 0 || s.label.rfind("slow", 0) == 0
                             ? " pause"
                         : s.label.rfind("clog", 0) == 0              ? " clog"
                         : s.label.rfind("partition, side 1", 0) == 0 ? " partition side1"
                                                                      : " partition";
      out += "<rect class=\"fault" + kind + "\" x=\"" + x(s.from) + "\" y=\"" +
             std::to_string(top) + "\" width=\"" + w(s.from, s.to) + "\" height=\"" +
             std::to_string(bottom - top) + "\"><title>" + escape(lanes_[i]) + ": " +
             escape(s.label) + " " + secs(s.from) + " .. " + secs(s.to) + "</title></rect>\n";
    }
    const int ops_y = top + kHeader + kOpsRow / 2;
    for (const Mark& m : ops_) {
      if (m.lane != i) continue;
      out += "<circle class=\"op " + std::string(outcome_class(m.kind)) + "\" cx=\"" + x(m.at) +
             "\" cy=\"" + std::to_string(ops_y) + "\" r=\"3\"><title>" + secs(m.at) + " " +
             escape(m.label) + "</title></circle>\n";
    }
    const int traffic_y = top + kHeader + kOpsRow;
    for (const Mark& m : traffic_) {
      if (m.lane != i) continue;
      out += "<line class=\"traffic\" x1=\"" + x(m.at) + "\" x2=\"" + x(m.at) + "\" y1=\"" +
             std::to_string(traffic_y) + "\" y2=\"" + std::to_string(traffic_y + kTrafficRow - 1) +
             "\"><title>" + secs(m.at) + " " + escape(m.label) + "</title></line>\n";
    }
    int row_y = traffic_y + kTrafficRow;
    for (const auto& [subject, intervals] : states_[i]) {
      for (size_t k = 0; k < intervals.size(); ++k) {
        const int64_t to = k + 1 < intervals.size() ? intervals[k + 1].from : last;
        out += "<rect class=\"state " + std::string(state_class(intervals[k].state)) + "\" x=\"" +
               x(intervals[k].from) + "\" y=\"" + std::to_string(row_y) + "\" width=\"" +
               w(intervals[k].from, to) + "\" height=\"" + std::to_string(kStateRow - 1) +
               "\"><title>" + escape(lanes_[i]) + " holds " + escape(subject) + " " +
               state_class(intervals[k].state) + " from " + secs(intervals[k].from) +
               "</title></rect>\n";
      }
      row_y += kStateRow;
    }
    out += "</g>\n";
  }
  for (size_t p = 0; p < pins_.size(); ++p) {
    out += "<g class=\"pin\"><line x1=\"" + x(pins_[p].at) + "\" x2=\"" + x(pins_[p].at) +
           "\" y1=\"" + std::to_string(kTop) + "\" y2=\"" + std::to_string(height - 10) +
           "\"/><text x=\"" + x(pins_[p].at) + "\" y=\"" + std::to_string(kTop + 10) +
           "\">&#9873; " + std::to_string(p + 1) + "</text><title>" + escape(pins_[p].text) +
           "</title></g>\n";
  }
  out += "</svg>\n";
  if (!pins_.empty()) {
    out += "<h2>Violations</h2>\n<ol class=\"violations\">\n";
    for (const Pin& p : pins_) {
      out += "<li><b>" + secs(p.at) + "</b> " + escape(p.text) +
             (p.repro.empty() ? "" : "<pre class=\"repro\">" + escape(p.repro) + "</pre>") +
             "</li>\n";
    }
    out += "</ol>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace ckv
