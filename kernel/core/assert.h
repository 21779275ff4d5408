// CKV_ASSERT(condition, why): states an invariant the kernel keeps by its own making —
// never a check of its input (bad input from the network or a client is an error value,
// see result.h). Checked where CKV_ASSERTIONS is defined: Debug and sanitizer builds, and
// the simulator's and the tests' copy of the kernel in every build; compiled out of a
// Release node, where `condition` is not evaluated.
//
// A failed assertion calls the installed handler with what failed and where. The default
// handler aborts; the runtime installs one that logs first, the simulator one that throws
// the AssertionFailure, so that a run reports it like a property violation, with its seed
// and replay command. If a handler returns, the process aborts.
#pragma once

namespace ckv {

struct AssertionFailure {
  const char* file;
  int line;
  const char* condition;
  const char* why;
};

using AssertHandler = void (*)(const AssertionFailure&);

// Installs `handler` (null: the default) for the whole process and returns the previous
// one. Install it once, before any thread runs a kernel.
AssertHandler set_assert_handler(AssertHandler handler);

[[noreturn]] void assertion_failed(const char* file, int line, const char* condition,
                                   const char* why);

}  // namespace ckv

#ifdef CKV_ASSERTIONS
#define CKV_ASSERT(condition, why) \
  ((condition) ? void(0) : ::ckv::assertion_failed(__FILE__, __LINE__, #condition, why))
#else
#define CKV_ASSERT(condition, why) ((void)sizeof(!(condition)))
#endif
