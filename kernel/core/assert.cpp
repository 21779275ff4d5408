#include "kernel/core/assert.h"

#include <cstdlib>

namespace ckv {
namespace {

AssertHandler g_handler = nullptr;

}  // namespace

AssertHandler set_assert_handler(AssertHandler handler) {
  AssertHandler previous = g_handler;
  g_handler = handler;
  return previous;
}

void assertion_failed(const char* file, int line, const char* condition, const char* why) {
  if (g_handler != nullptr) g_handler(AssertionFailure{file, line, condition, why});
  std::abort();
}

}  // namespace ckv
