#include "relay/io/event_loop.h"

#include <future>
#include <memory>

namespace tw::io {

EventLoop::EventLoop() : base_(event_base_new()) {
  posted_.reset(event_new(base_.get(), -1, 0, &EventLoop::onPosted, this));
}

EventLoop::~EventLoop() = default;

void EventLoop::run(const std::function<void()>& beforeIteration) {
  thread_.store(std::this_thread::get_id());
  running_.store(true);
  while (!stopping_.load(std::memory_order_acquire)) {
    if (beforeIteration) beforeIteration();
    // EVLOOP_ONCE: wait for events, run them, return. An empty base (nothing
    // added yet) returns at once, so wait on a short timer then.
    if (event_base_loop(base_.get(), EVLOOP_ONCE) == 1) {
      const timeval pause{0, 10000};
      event_base_loopexit(base_.get(), &pause);
      event_base_dispatch(base_.get());
    }
  }
  running_.store(false);
}

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  // Needs libevent's thread support (evthread_use_pthreads, called once at
  // start-up by the app and the tests) to wake the loop from another thread.
  event_base_loopbreak(base_.get());
  event_active(posted_.get(), EV_READ, 0);
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(fn));
  }
  event_active(posted_.get(), EV_READ, 0);
}

bool EventLoop::call(const std::function<void()>& fn, std::chrono::milliseconds timeout) {
  if (!running_.load() || onLoopThread()) {
    fn();
    return true;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  post([done, fn] {
    fn();
    done->set_value();
  });
  return finished.wait_for(timeout) == std::future_status::ready;
}

void EventLoop::onPosted(evutil_socket_t, short, void* arg) {
  auto* loop = static_cast<EventLoop*>(arg);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(loop->mu_);
    tasks.swap(loop->tasks_);
  }
  for (auto& t : tasks) t();
}

}  // namespace tw::io
