#pragma once
// The N workers of the server, each on its own thread with its own loop
// (docs/architecture.md, Threads and workers). Other threads reach a worker
// only through its post queue; helpers here run a function on one worker,
// on every worker in turn, or on all at once and gather the answers.
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "relay/io/worker.h"

namespace tw::app {

class WorkerPool {
 public:
  using Factory = std::function<std::unique_ptr<io::Worker>(turn::WorkerId)>;
  WorkerPool(uint32_t count, const Factory& make);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t size() const { return workers_.size(); }
  io::Worker& operator[](size_t i) { return *workers_[i]; }
  /// The worker that owns allocation `id` (turn::WorkerId).
  io::Worker& ownerOf(uint64_t allocationId);
  /// Starts one thread per worker.
  void start();
  /// Stops every loop and joins the threads.
  void stop();

  /// Runs fn(worker) on each worker's loop thread in turn, waiting for each
  /// (bounded); false when one did not answer.
  bool forEach(const std::function<void(io::Worker&)>& fn);
  /// Runs fn on every worker at once and returns the answers in worker
  /// order; nullopt when one did not answer within `timeout`.
  template <class T>
  std::optional<std::vector<T>> gather(std::function<T(io::Worker&)> fn,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::vector<std::future<T>> answers;
    for (auto& w : workers_) {
      auto p = std::make_shared<std::promise<T>>();
      answers.push_back(p->get_future());
      io::Worker* worker = w.get();
      w->post([p, fn, worker] { p->set_value(fn(*worker)); });
    }
    std::vector<T> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto& a : answers) {
      if (a.wait_until(deadline) != std::future_status::ready) return std::nullopt;
      out.push_back(a.get());
    }
    return out;
  }

 private:
  std::vector<std::unique_ptr<io::Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace tw::app
