#include "runtime/config_file.h"

#include "runtime/text_parse.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ckv {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<ConfigSetting>> parse_config_text(std::string_view text,
                                                     const std::string& path) {
  std::vector<ConfigSetting> settings;
  size_t line_number = 0;
  while (!text.empty()) {
    const std::string_view raw = take_line(text);
    ++line_number;
    const std::string where = path + ":" + std::to_string(line_number);
    auto error = [&](const std::string& what) {
      return Error{ErrorCode::kInvalidArgument, where + ": " + what};
    };
    for (char c : raw) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
        return error("control character in the line");
      }
    }
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return error("expected 'name = value', got '" + std::string(line.substr(0, 80)) + "'");
    std::string_view name = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (name.starts_with("--")) name.remove_prefix(2);
    if (!valid_name(name)) {
      return error("'" + std::string(name.substr(0, 80)) +
                   "' is not a setting name (lower-case letters, digits and '-')");
    }
    if (!value.empty() && (value.front() == '"' || value.back() == '"')) {
      if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
        return error("unbalanced quotes in the value of '" + std::string(name) + "'");
      }
      value = value.substr(1, value.size() - 2);
    }
    settings.push_back(ConfigSetting{std::string(name), std::string(value), where});
  }
  return settings;
}

Result<std::vector<ConfigSetting>> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::kInvalidArgument,
                 "cannot read the config file " + path + ": " + std::strerror(errno)};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{ErrorCode::kIoError, "cannot read the config file " + path};
  std::string content = std::move(text).str();
  if (content.size() > kMaxConfigBytes) {
    return Error{ErrorCode::kInvalidArgument,
                 "the config file " + path + " is over 1 MiB: is it the right file?"};
  }
  return parse_config_text(content, path);
}

}  // namespace ckv
