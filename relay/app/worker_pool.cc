#include "relay/app/worker_pool.h"

namespace tw::app {

WorkerPool::WorkerPool(uint32_t count, const Factory& make) {
  for (uint32_t i = 0; i < count; ++i) workers_.push_back(make(turn::WorkerId{i, count}));
}

WorkerPool::~WorkerPool() { stop(); }

io::Worker& WorkerPool::ownerOf(uint64_t allocationId) {
  return *workers_[turn::WorkerId::ownerOf(allocationId, static_cast<uint32_t>(workers_.size()))];
}

void WorkerPool::start() {
  for (auto& w : workers_) threads_.emplace_back([worker = w.get()] { worker->run(); });
}

void WorkerPool::stop() {
  for (auto& w : workers_) w->stop();
  for (auto& t : threads_) t.join();
  const bool wasRunning = !threads_.empty();
  threads_.clear();
  if (!wasRunning) return;
  // What a loop left for its next pass runs now, while every worker still
  // exists: a TLS connection moved across workers is handed on from a
  // libevent finalizer of the old worker's loop (io::detachConnection) and
  // posts to the new owner, which may be destroyed first otherwise. Two
  // passes: the finalizers, then the posts they made.
  for (int pass = 0; pass < 2; ++pass)
    for (auto& w : workers_) w->pollOnce();
}

bool WorkerPool::forEach(const std::function<void(io::Worker&)>& fn) {
  bool all = true;
  for (auto& w : workers_) all = w->call([fn, worker = w.get()] { fn(*worker); }) && all;
  return all;
}

}  // namespace tw::app
