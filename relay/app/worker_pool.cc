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
  threads_.clear();
}

bool WorkerPool::forEach(const std::function<void(io::Worker&)>& fn) {
  bool all = true;
  for (auto& w : workers_) all = w->call([fn, worker = w.get()] { fn(*worker); }) && all;
  return all;
}

}  // namespace tw::app
