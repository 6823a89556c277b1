#pragma once
// One libevent loop that other threads can hand work to. Workers and the
// server's control loop (signals, reload, keyring timers, admin actions)
// each run one on their own thread.
//
//   other thread ──post(fn)──> queue (mutex) ──event_active──> loop thread runs fn
//   other thread ──call(fn)──> post + wait (bounded) for fn to finish
//
// The loop runs one iteration at a time (EVLOOP_ONCE), so its owner gets a
// hook at the top of every iteration (Worker: the policy pointer swap).
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "relay/io/handles.h"

namespace tw::io {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() { return base_.get(); }
  /// Runs until stop(); `beforeIteration` (may be empty) runs at the top of
  /// every iteration, before the loop waits for events.
  void run(const std::function<void()>& beforeIteration = {});
  /// Thread-safe: ends run() after the current iteration.
  void stop();
  /// Thread-safe: runs `fn` on the loop thread (soon, in posting order).
  void post(std::function<void()> fn);
  /// Runs `fn` on the loop thread and waits for it: inline when called on
  /// that thread or while the loop is not running (start-up, shutdown).
  /// false when the loop did not run it within `timeout` (it may still run
  /// later, so `fn` must own what it uses).
  bool call(const std::function<void()>& fn, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool onLoopThread() const { return running_.load() && std::this_thread::get_id() == thread_.load(); }

 private:
  static void onPosted(evutil_socket_t fd, short what, void* arg);

  EventBasePtr base_;
  EventPtr posted_;
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> thread_{};
};

}  // namespace tw::io
