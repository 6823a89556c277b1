#pragma once
// The merged event stream of all workers. Each worker reports through its
// own HubForwarder (a RelayEvents), which copies the event into a value and
// queues it; one hub thread replays the queue, in arrival order, into the
// sinks that must see every worker at once: the security event log
// (sampling per source IP) and the anomaly detectors (a brute force spread
// over workers from one IP is still one source). Per-worker samples of the
// allocations arrive on the same queue, so the detectors run on this one
// thread only and need no lock of their own.
//
//   worker i ──HubForwarder──push──┐
//   collector ──samples(worker i)──┼──> queue (mutex, bounded) ──> hub thread
//   worker j ──HubForwarder──push──┘         replay: SecurityEvents, AnomalyDetector
//
// Only request-path events are queued (allocations, auth failures, denials,
// Connects, revocations, bans), never relayed packets or drops. A full queue
// drops the event and counts it (dropped()).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/anomaly.h"
#include "relay/turn/events.h"

namespace tw::metrics {

struct HubEvent {
  enum class Kind : uint8_t {
    AllocationCreated,
    AllocationDeleted,
    AuthFailed,
    PeerDenied,
    ConnectAttempt,
    PeerRevoked,
    Banned,
    VolumeExceeded,
    Sample,
  };
  Kind kind = Kind::Sample;
  uint32_t worker = 0;
  uint64_t allocationId = 0;
  std::string user;  ///< user, or the untrusted USERNAME of an auth failure
  FiveTuple tuple;
  SocketAddress peer;
  std::string text;  ///< reason, rule or why
  Duration banFor{};
  uint64_t used = 0, limit = 0;  ///< VolumeExceeded: bytes in the window, the limit
  std::vector<AllocationSample> sample;
};

class EventHub {
 public:
  /// `sinks` get every event, in order, on the hub thread; `detector` (may
  /// be null) also gets the allocation samples.
  EventHub(std::vector<turn::RelayEvents*> sinks, AnomalyDetector* detector, size_t capacity = 65536);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  void start();
  /// Replays what is queued, then stops the thread.
  void stop();
  /// Thread-safe.
  void push(HubEvent e);
  /// Runs `fn` on the hub thread between events (config changes of the sinks).
  void post(std::function<void()> fn);
  /// Blocks until everything queued before the call has been replayed (tests).
  void flush();
  uint64_t dropped() const;

 private:
  void run();
  /// Runs the oldest queued task with `lock` released, then counts it done.
  void runOne(std::unique_lock<std::mutex>& lock);
  void replay(HubEvent& e);

  std::vector<turn::RelayEvents*> sinks_;
  AnomalyDetector* detector_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queue_;
  uint64_t pushed_ = 0, done_ = 0, dropped_ = 0;
  bool stopping_ = false;
  bool waiting_ = false;  ///< the hub sleeps with nothing queued: post() wakes it
  bool urgent_ = false;   ///< flush() waits: skip the batching window
  /// Once busy, the hub drains the queue, then gathers for this long before
  /// draining again (so a burst of allocations costs a wake-up per window,
  /// not one per event); an idle hub is woken by the first event at once.
  static constexpr std::chrono::milliseconds kBatchWindow{2};
  std::thread thread_;
};

/// A worker's RelayEvents sink that queues into the hub.
class HubForwarder final : public turn::RelayEvents {
 public:
  HubForwarder(EventHub& hub, uint32_t worker) : hub_(hub), worker_(worker) {}
  void onAllocationCreated(const turn::Allocation& a) override;
  void onAllocationDeleted(const turn::Allocation& a, std::string_view why) override;
  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) override;
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override;
  void onConnectAttempt(const turn::Allocation& a, const SocketAddress& peer) override;
  void onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                     std::string_view user) override;
  void onBanned(const SocketAddress& source, Duration banFor) override;
  void onVolumeExceeded(const turn::Allocation& a, uint64_t used, uint64_t limit) override;

 private:
  HubEvent event(HubEvent::Kind k) const {
    HubEvent e;
    e.kind = k;
    e.worker = worker_;
    return e;
  }
  /// The allocation's id, user and 5-tuple.
  HubEvent allocationEvent(HubEvent::Kind k, const turn::Allocation& a) const;
  /// A reason or rule, the 5-tuple and the (untrusted) user name.
  HubEvent textEvent(HubEvent::Kind k, std::string_view text, const FiveTuple& t,
                     std::string_view user) const;
  /// PeerDenied and PeerRevoked differ only in their kind.
  void pushPeerEvent(HubEvent::Kind k, const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                     std::string_view user);
  EventHub& hub_;
  uint32_t worker_;
};

}  // namespace tw::metrics
