#include "metrics/event_hub.h"

#include "relay/turn/allocation.h"

namespace tw::metrics {

EventHub::EventHub(std::vector<turn::RelayEvents*> sinks, AnomalyDetector* detector, size_t capacity)
    : sinks_(std::move(sinks)), detector_(detector), capacity_(capacity) {}

EventHub::~EventHub() { stop(); }

void EventHub::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void EventHub::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventHub::post(std::function<void()> fn) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= capacity_) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(fn));
    ++pushed_;
    wake = waiting_;  // only the hub's idle sleep needs a wake-up
    waiting_ = false;
  }
  if (wake) wake_.notify_one();
}

void EventHub::push(HubEvent e) {
  post([this, e = std::move(e)]() mutable { replay(e); });
}

void EventHub::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = pushed_;
  urgent_ = true;  // no batching window for this
  wake_.notify_one();
  if (!thread_.joinable()) {
    // Not started (tests that replay by hand): run it here.
    while (!queue_.empty()) runOne(lock);
    return;
  }
  idle_.wait(lock, [&] { return done_ >= target; });
}

uint64_t EventHub::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void EventHub::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) return;
      waiting_ = true;  // the next post wakes us at once
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      continue;
    }
    while (!queue_.empty()) runOne(lock);
    urgent_ = false;
    idle_.notify_all();
    // Busy: gather what arrives during a short window instead of being woken
    // per event; each wake-up is a context switch on a core the workers need.
    wake_.wait_for(lock, kBatchWindow, [this] { return stopping_ || urgent_; });
  }
}

void EventHub::runOne(std::unique_lock<std::mutex>& lock) {
  auto fn = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  fn();
  lock.lock();
  ++done_;
}

void EventHub::replay(HubEvent& e) {
  using K = HubEvent::Kind;
  if (e.kind == K::Sample) {
    if (detector_) detector_->sample(e.worker, e.sample);
    return;
  }
  // Allocation events carry only what the sinks read of an Allocation.
  turn::Allocation a;
  a.id = e.allocationId;
  a.user = e.user;
  a.tuple = e.tuple;
  for (auto* s : sinks_) {
    switch (e.kind) {
      case K::AllocationCreated:
        s->onAllocationCreated(a);
        break;
      case K::AllocationDeleted:
        s->onAllocationDeleted(a, e.text);
        break;
      case K::AuthFailed:
        s->onAuthFailed(e.text, e.tuple, e.user);
        break;
      case K::PeerDenied:
        s->onPeerDenied(e.peer, e.text, e.tuple, e.user);
        break;
      case K::ConnectAttempt:
        s->onConnectAttempt(a, e.peer);
        break;
      case K::PeerRevoked:
        s->onPeerRevoked(e.peer, e.text, e.tuple, e.user);
        break;
      case K::Banned:
        s->onBanned(e.tuple.client, e.banFor);
        break;
      case K::VolumeExceeded:
        s->onVolumeExceeded(a, e.used, e.limit);
        break;
      case K::Sample:
        break;
    }
  }
}

HubEvent HubForwarder::allocationEvent(HubEvent::Kind k, const turn::Allocation& a) const {
  HubEvent e = event(k);
  e.allocationId = a.id;
  e.user = a.user;
  e.tuple = a.tuple;
  return e;
}

HubEvent HubForwarder::textEvent(HubEvent::Kind k, std::string_view text, const FiveTuple& t,
                                 std::string_view user) const {
  HubEvent e = event(k);
  e.text = text;
  e.tuple = t;
  e.user = user;
  return e;
}

void HubForwarder::pushPeerEvent(HubEvent::Kind k, const SocketAddress& peer, std::string_view rule,
                                 const FiveTuple& t, std::string_view user) {
  HubEvent e = textEvent(k, rule, t, user);
  e.peer = peer;
  hub_.push(std::move(e));
}

void HubForwarder::onAllocationCreated(const turn::Allocation& a) {
  hub_.push(allocationEvent(HubEvent::Kind::AllocationCreated, a));
}

void HubForwarder::onAllocationDeleted(const turn::Allocation& a, std::string_view why) {
  HubEvent e = allocationEvent(HubEvent::Kind::AllocationDeleted, a);
  e.text = why;
  hub_.push(std::move(e));
}

void HubForwarder::onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) {
  hub_.push(textEvent(HubEvent::Kind::AuthFailed, reason, t, username));
}

void HubForwarder::onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                                std::string_view user) {
  pushPeerEvent(HubEvent::Kind::PeerDenied, peer, rule, t, user);
}

void HubForwarder::onConnectAttempt(const turn::Allocation& a, const SocketAddress& peer) {
  HubEvent e = allocationEvent(HubEvent::Kind::ConnectAttempt, a);
  e.peer = peer;
  hub_.push(std::move(e));
}

void HubForwarder::onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                                 std::string_view user) {
  pushPeerEvent(HubEvent::Kind::PeerRevoked, peer, rule, t, user);
}

void HubForwarder::onBanned(const SocketAddress& source, Duration banFor) {
  HubEvent e = event(HubEvent::Kind::Banned);
  e.tuple.client = source;
  e.banFor = banFor;
  hub_.push(std::move(e));
}

void HubForwarder::onVolumeExceeded(const turn::Allocation& a, uint64_t used, uint64_t limit) {
  HubEvent e = allocationEvent(HubEvent::Kind::VolumeExceeded, a);
  e.used = used;
  e.limit = limit;
  hub_.push(std::move(e));
}

}  // namespace tw::metrics
