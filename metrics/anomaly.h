#pragma once
// Anomaly detectors, fed by RelayEvents and by a once-a-second sample of each
// worker's allocations (bandwidth, permissions, Send destinations counted by
// that worker's SendTargets). One instance for all workers, on the EventHub's
// thread; time comes from the caller (ManualClock in tests).
//
//   kind                source key           fires when, within `window`
//   brute_force         client IP            >= brute_force_failures failed auths
//   relay_scan          allocation (client)  >= scan_distinct_peers distinct peers
//                                            (permissions, channels, Connects,
//                                            denied peers), or as many distinct
//                                            Send (IP, port) destinations
//   bandwidth_spike     allocation           rate > spike_factor x own EWMA and
//                                            > spike_min_bps, or > max_bps
//   total_bandwidth     (server)             all relayed traffic > total_bps
//   allocation_churn    client IP            >= churn_allocations creates+deletes
//   denied_peer_burst   user                 >= denied_peer_burst 403s
//   credential_sharing  user                 > sharing_ips distinct client IPs
//                                            within sharing_window
// Each detector fires at most once per key and window; tracked keys are
// bounded (kMaxKeys), so a flood of sources cannot grow memory.
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/anomaly_kind.h"
#include "metrics/send_targets.h"
#include "policy/config.h"
#include "relay/turn/allocation_table.h"
#include "relay/turn/events.h"

namespace tw::metrics {

struct Anomaly {
  AnomalyKind kind = AnomalyKind::BruteForce;
  std::string user;
  std::string clientIp;
  std::string peer;
  std::string details;
  uint64_t allocationId = 0;  ///< set for per-allocation kinds
  AnomalyAction action = AnomalyAction::Report;
};

inline constexpr size_t kMaxKeys = 10000;

/// Per-key state for fixed windows, bounded to kMaxKeys keys. Keys are
/// also queued in the order their windows started, so dropping ended
/// windows costs O(1) per key. (It used to scan the whole map whenever the
/// map was full: with 10,000 users inside the sharing window, every new
/// allocation walked 10,000 entries, a sixth of the server's CPU.)
template <class K, class E>
class WindowedMap {
 public:
  /// The key's entry for the window that contains `now`, fresh when its
  /// last window ended; null when the key is new and kMaxKeys keys are in
  /// their windows (the key is not tracked).
  E* current(const K& key, Instant now, Duration window) {
    if (auto it = entries_.find(key); it != entries_.end() && now - it->second.start < window)
      return &it->second;
    expire(now, window);  // may drop this key's ended window, too
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= kMaxKeys) return nullptr;
      it = entries_.emplace(key, E{}).first;
    }
    it->second = E{};
    it->second.start = now;
    started_.emplace_back(now, key);
    return &it->second;
  }
  size_t size() const { return entries_.size(); }

 private:
  void expire(Instant now, Duration window) {
    while (!started_.empty() && now - started_.front().first >= window) {
      auto it = entries_.find(started_.front().second);
      // A key whose window started again since has a later record.
      if (it != entries_.end() && it->second.start == started_.front().first) entries_.erase(it);
      started_.pop_front();
    }
  }
  std::unordered_map<K, E> entries_;
  std::deque<std::pair<Instant, K>> started_;  ///< (window start, key), oldest first
};

/// Counts events per key in fixed windows; true once when `threshold` is reached.
template <class K>
class WindowCounter {
 public:
  bool add(const K& key, Instant now, Duration window, uint32_t threshold, uint32_t& count);

 private:
  struct Entry {
    Instant start;
    uint32_t count = 0;
  };
  WindowedMap<K, Entry> entries_;
};

/// Distinct values per key in fixed windows; true once when the set reaches `threshold`.
template <class K, class V>
class DistinctCounter {
 public:
  bool add(const K& key, const V& value, Instant now, Duration window, uint32_t threshold, size_t& distinct);
  /// Marks `key` as fired in its current window without adding a value (a
  /// count measured elsewhere reached the threshold); true unless it had
  /// already fired, so the key still fires once per window.
  bool claim(const K& key, Instant now, Duration window);

 private:
  struct Entry {
    Instant start;
    std::set<V> values;
    bool fired = false;
  };
  WindowedMap<K, Entry> entries_;
};

/// What the detectors need of one allocation, copied on its worker's loop
/// thread once a second so the detectors can run elsewhere.
struct AllocationSample {
  uint64_t id = 0;
  std::string user;
  SocketAddress client;
  uint64_t bytes = 0;  ///< relayed both ways since it was created
  /// Permission peers (port 0) and channel peers.
  std::vector<SocketAddress> peers;
  /// Distinct Send destinations when they reached scan_distinct_peers in
  /// the window (then the count starts again), else 0.
  uint32_t sendDistinct = 0;
  SocketAddress sendLast;
};

/// Samples one worker's allocations (on its loop thread) with the Send
/// destinations its `sends` counted; rolls each allocation's
/// Send-destination window with `config`.
std::vector<AllocationSample> sampleAllocations(turn::AllocationTable& table, SendTargets& sends,
                                                const policy::AnomaliesConfig& config, Instant now);

class AnomalyDetector final : public turn::RelayEvents {
 public:
  using Sink = std::function<void(const Anomaly&)>;
  AnomalyDetector(const policy::AnomaliesConfig& config, const Clock& clock, Sink sink)
      : config_(config), clock_(clock), sink_(std::move(sink)) {}

  void setConfig(const policy::AnomaliesConfig& config) { config_ = config; }

  void onAllocationCreated(const turn::Allocation& a) override;
  void onAllocationDeleted(const turn::Allocation& a, std::string_view why) override;
  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) override;
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override;
  void onConnectAttempt(const turn::Allocation& a, const SocketAddress& peer) override;

  /// Once a second per worker: bandwidth, permission and Send destination
  /// checks on that worker's allocations; total_bandwidth sums the latest
  /// sample of every worker.
  void sample(uint32_t worker, const std::vector<AllocationSample>& allocations);

 private:
  struct Rate {
    uint64_t bytes = 0;
    Instant at;
    double ewmaBps = 0;
    bool primed = false;
    Instant firedAt{};
  };
  /// Decides the action, then hands the anomaly to the sink.
  void fire(Anomaly a);
  void churn(const turn::Allocation& a);
  void scanPeer(const SocketAddress& client, const SocketAddress& peer, std::string_view user,
                uint64_t allocationId);
  /// relay_scan from an allocation's Send destination count.
  void sendScan(const AllocationSample& a, Instant now);
  void bandwidth(const AllocationSample& a, Instant now, double& totalBps);
  std::string withinWindow(uint64_t n, std::string_view what, Duration window) const;

  policy::AnomaliesConfig config_;
  const Clock& clock_;
  Sink sink_;
  WindowCounter<IpAddress> authFailures_;
  WindowCounter<IpAddress> churn_;
  WindowCounter<std::string> denied_;
  DistinctCounter<SocketAddress, SocketAddress> scan_;
  DistinctCounter<std::string, IpAddress> sharing_;
  std::unordered_map<uint64_t, Rate> rates_;
  std::unordered_map<uint32_t, double> workerBps_;  // latest relayed bit/s per worker
  Instant totalFiredAt_{};
};

}  // namespace tw::metrics
