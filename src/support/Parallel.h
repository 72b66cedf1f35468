// A minimal parallel loop over indices on a few std::threads (front-end compiles, input preparation).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace mirtune {

/// Runs body(i) for i in [0, count) on up to `workers` threads (the caller's thread included); returns when
/// all are done. body must be safe to call concurrently for different i.
template <typename Body>
void parallelFor(std::size_t count, unsigned workers, const Body& body) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) body(i);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::min<std::size_t>(workers, count); ++t) threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
}

}  // namespace mirtune
