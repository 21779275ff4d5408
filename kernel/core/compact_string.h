// CompactString: an immutable string in 16 bytes — inline when it has at most 15 bytes,
// on the heap otherwise. Member tables hold one name per member per node, so at 1000
// nodes this halves their size against std::string (32 bytes).
#pragma once

#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ckv {

class CompactString {
 public:
  static constexpr size_t kInlineCapacity = 15;

  CompactString() { set_inline(std::string_view()); }
  explicit CompactString(std::string_view s) { assign(s); }
  CompactString(const CompactString& other) { assign(other.view()); }
  CompactString(CompactString&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_inline(std::string_view());
  }
  CompactString& operator=(const CompactString& other) {
    if (this != &other) {
      release();
      assign(other.view());
    }
    return *this;
  }
  CompactString& operator=(CompactString&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.set_inline(std::string_view());
    }
    return *this;
  }
  ~CompactString() { release(); }

  std::string_view view() const {
    if (is_inline()) return {bytes_, static_cast<size_t>(bytes_[kTagByte])};
    return {heap_ptr(), heap_size()};
  }
  operator std::string_view() const { return view(); }  // NOLINT: a string is a string
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }

  friend bool operator==(const CompactString& a, const CompactString& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const CompactString& a, std::string_view b) { return a.view() == b; }
  friend auto operator<=>(const CompactString& a, const CompactString& b) {
    return a.view() <=> b.view();
  }

 private:
  static constexpr size_t kTagByte = 15;
  static constexpr char kHeapTag = static_cast<char>(0x80);

  bool is_inline() const { return bytes_[kTagByte] != kHeapTag; }
  char* heap_ptr() const {
    char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  uint32_t heap_size() const {
    uint32_t n;
    std::memcpy(&n, bytes_ + sizeof(char*), sizeof n);
    return n;
  }
  void set_inline(std::string_view s) {
    std::memset(bytes_, 0, sizeof bytes_);
    if (!s.empty()) std::memcpy(bytes_, s.data(), s.size());  // data() may be null when empty
    bytes_[kTagByte] = static_cast<char>(s.size());
  }
  void assign(std::string_view s) {
    if (s.size() <= kInlineCapacity) {
      set_inline(s);
      return;
    }
    char* p = new char[s.size()];
    std::memcpy(p, s.data(), s.size());
    const auto n = static_cast<uint32_t>(s.size());
    std::memset(bytes_, 0, sizeof bytes_);
    std::memcpy(bytes_, &p, sizeof p);
    std::memcpy(bytes_ + sizeof p, &n, sizeof n);
    bytes_[kTagByte] = kHeapTag;
  }
  void release() {
    if (!is_inline()) delete[] heap_ptr();
  }

  char bytes_[16];
};

static_assert(sizeof(CompactString) == 16);

}  // namespace ckv
