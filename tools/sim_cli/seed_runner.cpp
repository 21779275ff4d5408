#include "tools/sim_cli/seed_runner.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ckv::sim {

namespace {

struct Outcome {
  std::optional<SimResult> result;
  std::exception_ptr error;
};

}  // namespace

void run_seeds(const SimConfig& base, uint64_t first, uint64_t count, unsigned jobs,
               const std::function<void(SimResult&&)>& take) {
  auto simulate_seed = [&](uint64_t k) {
    SimConfig config = base;
    config.seed = first + k;
    return simulate(config);
  };
  if (jobs <= 1) {
    for (uint64_t k = 0; k < count; ++k)
      take(simulate_seed(k));
    return;
  }

  const uint64_t ahead = uint64_t{4} * jobs;  // results that may wait to be taken
  std::mutex mu;
  std::condition_variable changed;
  std::map<uint64_t, Outcome> finished;  // by seed index, until taken
  uint64_t next_to_start = 0;
  uint64_t next_to_take = 0;
  bool stopping = false;

  auto work = [&] {
    for (;;) {
      uint64_t k;
      {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] {
          return stopping || next_to_start >= count || next_to_start < next_to_take + ahead;
        });
        if (stopping || next_to_start >= count) return;
        k = next_to_start++;
      }
      Outcome outcome;
      try {
        outcome.result = simulate_seed(k);
      } catch (...) {
        outcome.error = std::current_exception();
      }
      {
        std::lock_guard lock(mu);
        finished.emplace(k, std::move(outcome));
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < jobs; ++j)
    threads.emplace_back(work);

  std::exception_ptr error;
  for (uint64_t k = 0; k < count && !error; ++k) {
    Outcome outcome;
    {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return finished.count(k) != 0; });
      outcome = std::move(finished.at(k));
      finished.erase(k);
      next_to_take = k + 1;
    }
    changed.notify_all();
    try {
      if (outcome.error) std::rethrow_exception(outcome.error);
      take(std::move(*outcome.result));
    } catch (...) {
      error = std::current_exception();
    }
  }
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  changed.notify_all();
  for (std::thread& t : threads)
    t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace ckv::sim
